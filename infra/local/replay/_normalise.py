"""Bring a replayed history to the conventions of a recording, and compare JSON leniently.

Recordings (see ``../shared/conformance/README.md``) replace timestamps, partitions, regions,
map-run ids and role ARNs with placeholders, parse JSON text that starts with ``{`` and may list
``transformers`` the recorder applied. The same is applied here to the engine's history.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

_MAP_RUN: Final = re.compile(r"mapRun:([^/\s\"]+)/[^:\s\"]+:[0-9a-fA-F-]{36}")
_REGION: Final = re.compile(r":(us|eu|ap|sa|ca|me|af)-[a-z]+-\d:")
_NOT_FOUND_INPUT: Final = re.compile(r"(could not be found in the input ')(.*)(')$", re.S)
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})")
_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _strings(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {key: _strings(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_strings(item, change) for item in value]
    return value


def _placeholders(text: str) -> str:
    text = text.replace("arn:aws:", "arn:<partition>:")
    text = _REGION.sub(":<region>:", text)
    text = _MAP_RUN.sub(r"mapRun:\1/<MapRunArnPart0_0idx>:<MapRunArnPart1_0idx>", text)
    return _NOT_FOUND_INPUT.sub(r"\1<json-input:1>\3", text)


def _parse_objects(value: Any) -> Any:
    """Parse JSON text starting with ``{`` into objects, one level deep, as the recorder did."""
    if isinstance(value, str):
        if value.startswith("{"):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value
    if isinstance(value, dict):
        return {key: _parse_objects(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_parse_objects(item) for item in value]
    return value


def normalise_history(
    events: list[dict[str, Any]], transformers: Sequence[Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    """Return ``events`` (as the engine rendered them) in a recording's conventions."""
    transformers = transformers or []
    # The recorder's literal replacements (names, role ARNs) see the raw text, so they run
    # before the placeholders; JSONPath-based ones need the parsed objects, so they run after.
    raw_replacements = [_regex_change(t) for t in transformers if t.get("regex")]
    result = []
    for event in events:
        copy = {key: value for key, value in event.items() if key != "timestamp"}
        copy["timestamp"] = "timestamp"
        for change in raw_replacements:
            copy = _strings(copy, change)
        copy = _strings(copy, _placeholders)
        for key, details in copy.items():
            if (
                key.endswith("EventDetails")
                and isinstance(details, dict)
                and details.get("region") is not None
            ):
                details["region"] = "<region>"
        result.append(_parse_objects(copy))
    result = apply_transformers(result, [t for t in transformers if not t.get("regex")])
    # Last, as the recorder's own defaults: ISO dates become "date", UUIDs "<uuid:N>".
    numbers: dict[str, str] = {}

    def anonymise(text: str) -> str:
        text = _DATE.sub("date", text)
        return _UUID.sub(
            lambda m: numbers.setdefault(m.group(0), f"<uuid:{len(numbers) + 1}>"), text
        )

    return [_strings(event, anonymise) for event in result]


def apply_transformers(
    events: list[dict[str, Any]], transformers: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Apply a recording's ``transformers`` to a (normalised) history."""
    for transformer in transformers:
        kind = transformer.get("class")
        regex = transformer.get("regex")
        path = transformer.get("jsonpath")
        replacement = transformer.get("replacement")
        if regex and replacement is not None:
            events = _strings(events, _regex_change(transformer))
        elif path and replacement is not None:
            keys = path.rsplit("..", 1)[-1].split(".")
            events = _replace_key_path(events, keys, replacement)
        elif kind == "SfnNoneRecursiveParallelTransformer":
            events = order_parallel_events(events)
    return events


def _regex_change(transformer: Mapping[str, Any]) -> Callable[[str], str]:
    regex = str(transformer.get("regex"))
    replacement = str(transformer.get("replacement"))
    try:
        pattern = re.compile(regex)
    except re.error:
        pattern = re.compile(re.escape(regex))
    return lambda text: pattern.sub(replacement, text)


def _replace_key_path(value: Any, keys: list[str], replacement: Any) -> Any:
    if isinstance(value, list):
        return [_replace_key_path(item, keys, replacement) for item in value]
    if not isinstance(value, dict):
        return value
    out = {key: _replace_key_path(item, keys, replacement) for key, item in value.items()}
    node: Any = out
    for key in keys[:-1]:
        if not isinstance(node, dict) or key not in node:
            return out
        node = node[key]
    if isinstance(node, dict) and keys[-1] in node:
        node[keys[-1]] = replacement
    return out


def order_parallel_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Make the events inside Parallel states order-independent, as the recorder did.

    The events between a ParallelStateStarted and the next Parallel* closing event lose their
    ids (``[0]`` and 0) and are sorted by their JSON text; the closing events that follow in the
    same run of the walk are dropped, exactly as the recording tool's transformer behaves.
    """
    events = list(events)
    sublist: list[dict[str, Any]] = []
    start = 0
    inside = False
    closing = {
        "ParallelStateSucceeded",
        "ParallelStateAborted",
        "ParallelStateExited",
        "ParallelStateFailed",
    }
    index = 0
    while index < len(events):
        event = events[index]
        kind = event.get("type")
        if kind in closing:
            # Like the recorder, keep walking from the same position of the now shorter list.
            events[start:index] = sorted(sublist, key=_sort_key)
            inside = False
        elif kind == "ParallelStateStarted":
            inside = True
            sublist = []
            start = index + 1
        elif inside:
            event = dict(event)
            event["id"] = [0]
            event["previousEventId"] = 0
            events[index] = event
            sublist.append(event)
        index += 1
    return events


def _sort_key(event: Mapping[str, Any]) -> str:
    return json.dumps(event, sort_keys=True)


def json_equal(expected: Any, actual: Any) -> bool:
    """Equality where JSON text equals the value it encodes (either side, any depth)."""
    if expected == actual:
        return True
    if isinstance(expected, str) and not isinstance(actual, str):
        parsed = _try_parse(expected)
        return parsed is not _NOPE and parsed == actual
    if isinstance(actual, str) and not isinstance(expected, str):
        parsed = _try_parse(actual)
        return parsed is not _NOPE and json_equal(expected, parsed)
    if isinstance(expected, str) and isinstance(actual, str):
        left, right = _try_parse(expected), _try_parse(actual)
        if left is _NOPE or right is _NOPE:
            return False
        return json_equal(left, right)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            json_equal(expected[key], actual[key]) for key in expected
        )
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            json_equal(left, right) for left, right in zip(expected, actual, strict=True)
        )
    return False


_NOPE: Final = object()


def _try_parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _NOPE


def first_difference(expected: Any, actual: Any, where: str = "") -> str | None:
    """Describe the first place two JSON values differ (None when they are equal)."""
    if json_equal(expected, actual):
        return None
    if isinstance(expected, str) and isinstance(actual, dict | list):
        parsed = _try_parse(expected)
        if parsed is not _NOPE:
            expected = parsed
    if isinstance(actual, str) and isinstance(expected, dict | list):
        parsed = _try_parse(actual)
        if parsed is not _NOPE:
            actual = parsed
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in expected:
            if key not in actual:
                return f"{where}.{key}: missing (expected {_short(expected[key])})"
            diff = first_difference(expected[key], actual[key], f"{where}.{key}")
            if diff:
                return diff
        for key in actual:
            if key not in expected:
                return f"{where}.{key}: unexpected {_short(actual[key])}"
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            diff = first_difference(left, right, f"{where}[{index}]")
            if diff:
                return diff
    return f"{where or '$'}: expected {_short(expected)}, got {_short(actual)}"


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- TestState responses --------------------------------------------------------------------

_ARN: Final = re.compile(r"^arn:[^:\s]+:[^:\s]*:[^:\s]*:[^:\s]*:\S+$")
_RESOURCE: Final = re.compile(r"<resource:(\d+)>")
_KEPT_NAME: Final = re.compile(r"^<.*>$")


def normalise_response(
    response: Mapping[str, Any], transformers: Sequence[Mapping[str, Any]] | None, region: str
) -> dict[str, Any]:
    """Return a TestState response (as the engine gave it) in a recording's conventions.

    As for histories (see :func:`normalise_history`), plus what the TestState recordings did
    (``tests/conformance/recordings/README.md``): ``output`` and the stages of
    ``inspectionData`` that are JSON objects are parsed, the region is a placeholder wherever
    it appears (queue URLs too), and a ``KeyValueBasedTransformer`` with ``match_fn:
    resource_name`` renames every ARN's resource name (see :func:`rename_resources`).
    """
    transformers = transformers or []
    value: Any = dict(response)
    for change in [_regex_change(t) for t in transformers if t.get("regex")]:
        value = _strings(value, change)
    value = _strings(value, lambda text: _placeholders(text).replace(region, "<region>"))
    if isinstance(value.get("output"), str):
        value["output"] = _parse_objects(value["output"])
    inspection = value.get("inspectionData")
    if isinstance(inspection, dict):
        value["inspectionData"] = {key: _parse_objects(item) for key, item in inspection.items()}
    if any(
        t.get("class") == "KeyValueBasedTransformer" and t.get("match_fn") == "resource_name"
        for t in transformers
    ):
        value = _rename_names(value)
    for transformer in transformers:
        key = transformer.get("key")
        if transformer.get("class") == "KeyValueBasedTransformer" and isinstance(key, str):
            value = _replace_key(value, key, transformer.get("replacement"))
    value = _snapshot_keys(value)
    value = apply_transformers([value], [t for t in transformers if t.get("jsonpath")])[0]
    numbers: dict[str, str] = {}

    def anonymise(text: str) -> str:
        text = _DATE.sub("date", text)
        return _UUID.sub(
            lambda m: numbers.setdefault(m.group(0), f"<uuid:{len(numbers) + 1}>"), text
        )

    normalised: dict[str, Any] = rename_resources(_strings(value, anonymise))
    return normalised


# What the recorder's snapshot replaced in every response, by key whatever the value (a Lambda
# invoke result's headers, say: ``"Date": "date"`` where the response had a list of one date).
_SNAPSHOT_KEYS: Final = {
    "Date": "date",
    "X-Amzn-Trace-Id": "X-Amzn-Trace-Id",
    "x-amzn-RequestId": "x-amzn-RequestId",
    "RequestId": "RequestId",
}


def _snapshot_keys(value: Any) -> Any:
    if isinstance(value, list):
        return [_snapshot_keys(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        name: _SNAPSHOT_KEYS[name] if name in _SNAPSHOT_KEYS else _snapshot_keys(item)
        for name, item in value.items()
    }


def _replace_key(value: Any, key: str, replacement: Any) -> Any:
    """Replace the string values of ``key`` at any depth (a KeyValueBasedTransformer's key)."""
    if isinstance(value, list):
        return [_replace_key(item, key, replacement) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        name: replacement
        if name == key and isinstance(item, str)
        else _replace_key(item, key, replacement)
        for name, item in value.items()
    }


def _rename_names(value: Any) -> Any:
    """Replace each ARN's resource name, wherever it appears, by ``<resource:N>``."""
    names: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, str):
            if _ARN.match(node):
                name = re.split(r"[:/]", node)[-1]
                if name and not _KEPT_NAME.match(name) and name not in names:
                    names.append(name)
        elif isinstance(node, dict):
            for key in sorted(node):
                collect(node[key])
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(value)
    # Longest first, so that a name inside a longer one does not break the longer one.
    for number, name in sorted(enumerate(names, 1), key=lambda pair: -len(pair[1])):
        value = _strings(value, _replacing(name, f"<resource:{number}>"))
    return value


def _replacing(name: str, placeholder: str) -> Callable[[str], str]:
    # The whole name only: a short one ("r") must not eat into "arn" or "role".
    pattern = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
    return lambda text: pattern.sub(placeholder, text)


def rename_resources(value: Any) -> Any:
    """Number ``<resource:N>`` placeholders afresh, in order of first appearance.

    The recorder numbered them across every record of a test; renumbered within one response
    (keys in sorted order), two responses compare up to a consistent renaming.
    """
    order: dict[str, str] = {}

    def scan(node: Any) -> None:
        if isinstance(node, str):
            for found in _RESOURCE.findall(node):
                order.setdefault(found, str(len(order) + 1))
        elif isinstance(node, dict):
            for key in sorted(node):
                scan(node[key])
        elif isinstance(node, list):
            for item in node:
                scan(item)

    scan(value)
    if not order:
        return value
    return _strings(value, lambda text: _RESOURCE.sub(lambda m: f"<resource:{order[m[1]]}>", text))
