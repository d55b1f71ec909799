"""Finding a stepsaga service: the one loader every command and `LocalService.start` use.

A service is a package laid out like the reference service `stepsaga.examples.orders`:

- `<service>.sagas` exposes `SAGAS`, a sequence of `Saga` (names unique);
- `<service>.handlers` exposes `HANDLERS`, a mapping of handler name to step function, holding
  every handler its sagas name;
- optionally, `<service>.demo` exposes `DEMO`, a `Demo`: the scenarios `stepsaga demo` runs.

The reference service's `demo.py` shows the shape::

    DEMO = Demo(
        scenarios=(
            Scenario("order-succeeds", "PlaceOrder", {"orderId": "o-1001", ...}),
            Scenario("payment-declined", "PlaceOrder", {..., "paymentToken": "tok_decline"}),
        ),
        seed=lambda store, tenant: seed_stock(store, tenant, "KEYBOARD-42", 10),
        summary=lambda store, tenant: f"stock of KEYBOARD-42 now {stock_level(...)}",
    )

`load_service()` picks the service from, in order: the name it is given (the command line's
`--service MODULE`), `service = "..."` in the `[tool.stepsaga]` table of the nearest
`pyproject.toml` (from the working directory up), and the reference service. It imports the
submodules themselves, so a service's `__init__` may stay empty (a Lambda importing one handler
need not import every saga), and it puts the project's folder on `sys.path` when the service is
not importable otherwise (the console script's path lacks the working directory).

Every problem raises `ServiceError`, naming the module, attribute, saga, step or handler that is
wrong.
"""

from __future__ import annotations

import difflib
import importlib
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

from pydantic import ValidationError

from stepsaga.tasks import EventStore, StepFunction
from stepsaga.workflows.saga import Saga, missing_handlers

__all__ = (
    "REFERENCE_SERVICE",
    "Demo",
    "Scenario",
    "Service",
    "ServiceError",
    "import_project_module",
    "load_service",
)

REFERENCE_SERVICE = "stepsaga.examples.orders"
"""The service used when neither `--service` nor `[tool.stepsaga] service` names one."""

_TABLE_KEYS = ("service",)
# The scenario's execution is named `demo-<name>`; Step Functions allows 80 such characters.
_SCENARIO_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}")


class ServiceError(Exception):
    """A service cannot be found or is not laid out as a service must be; the message says why."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """One execution of a service's demo.

    Attributes:
        name: The scenario's name (letters, digits, `-`, `_`): the run's title, `scenario` in
            `stepsaga demo --json`, and its execution's name `demo-<name>`, fixed so that event
            ids are the same on every run.
        saga: The name of the saga it runs.
        command: The command, as the saga's command model reads it from JSON (checked when the
            service loads).
    """

    name: str
    saga: str
    command: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Demo:
    """What `stepsaga demo` runs for a service: its `demo` module's `DEMO`.

    The scenarios run in order on one event store, for one tenant (`acme`).

    Attributes:
        scenarios: The executions to run (at least one, names unique).
        seed: Called once with the event store and the tenant before the first scenario, to
            set up what the scenarios need (the reference service adds stock); None for nothing.
        summary: Called with the event store and the tenant after each scenario; the line it
            returns is shown under that run (the reference service: the stock left). None
            shows nothing.
    """

    scenarios: Sequence[Scenario]
    seed: Callable[[EventStore, str], object] | None = None
    summary: Callable[[EventStore, str], str] | None = None


@dataclass(frozen=True, slots=True)
class Service:
    """A loaded service: its sagas and the step functions they invoke.

    Attributes:
        module: The service package's module name (`stepsaga.examples.orders`).
        sagas: Saga name to saga, in the order `SAGAS` lists them.
        handlers: Handler name to step function (`HANDLERS`); holds every handler the sagas name.
        demo: The demo's scenarios (`<module>.demo.DEMO`), or None when the service has none.
    """

    module: str
    sagas: Mapping[str, Saga]
    handlers: Mapping[str, StepFunction]
    demo: Demo | None = None

    @property
    def name(self) -> str:
        """The service's short name, the module's last part (`orders`): logs, function names."""
        return self.module.rpartition(".")[2]

    def saga(self, name: str) -> Saga:
        """The saga called `name`.

        Raises:
            ServiceError: The service has no such saga (the message lists those it has).
        """
        try:
            return self.sagas[name]
        except KeyError:
            known = ", ".join(self.sagas) or "none"
            raise ServiceError(
                f"service {self.module!r} has no saga {name!r}{_did_you_mean(name, self.sagas)}; "
                f"it has: {known}"
            ) from None


def load_service(name: str | None = None, *, start: Path | None = None) -> Service:
    """Find, import and check a service.

    Args:
        name: The service's module name (`--service`). None reads `[tool.stepsaga] service`
            from the nearest `pyproject.toml`, falling back to `REFERENCE_SERVICE`.
        start: Where the search for `pyproject.toml` (and the service's project) begins;
            default the working directory.

    Returns:
        The service, checked: every saga's handlers are in `HANDLERS`, and every demo scenario
        names a saga of the service and a command its model accepts.

    Raises:
        ServiceError: The `[tool.stepsaga]` table is malformed; the module, or its `sagas` or
            `handlers` submodule, is missing or fails to import; `SAGAS` or `HANDLERS` is
            missing or of the wrong shape; a saga names a handler `HANDLERS` lacks; the `demo`
            module fails to import or its `DEMO` is not a valid `Demo`.
    """
    folder = (start or Path.cwd()).resolve()
    module = name if name is not None else _configured_service(folder)
    if not module:
        raise ServiceError("the service module name is empty")
    package = import_project_module(module, start=folder)
    sagas = _sagas(module, _submodule(package, "sagas", "SAGAS"))
    handlers = _handlers(module, _submodule(package, "handlers", "HANDLERS"))
    _check_handlers(module, sagas.values(), handlers)
    demo = _demo(module, sagas)
    return Service(module, MappingProxyType(sagas), MappingProxyType(handlers), demo)


def _configured_service(start: Path | None = None) -> str:
    """The service `[tool.stepsaga] service` names in the nearest `pyproject.toml`.

    The search goes from `start` (default: the working directory) up to the first
    `pyproject.toml`; without one, or without the table, it is `REFERENCE_SERVICE`.

    Raises:
        ServiceError: That file is not valid TOML, or its `[tool.stepsaga]` table is malformed
            (not a table, an unknown key, `service` not a non-empty module name).
    """
    pyproject = _pyproject(start or Path.cwd())
    if pyproject is None:
        return REFERENCE_SERVICE
    try:
        with pyproject.open("rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ServiceError(f"{pyproject}: cannot read it: {error}") from error
    tool = document.get("tool", {})
    table = tool.get("stepsaga") if isinstance(tool, dict) else None
    if table is None:
        return REFERENCE_SERVICE
    where = f"{pyproject}: [tool.stepsaga]"
    if not isinstance(table, dict):
        raise ServiceError(f"{where} must be a table, got {type(table).__name__}")
    for key in table:
        if key not in _TABLE_KEYS:
            raise ServiceError(
                f"{where} has unknown key {key!r}{_did_you_mean(key, _TABLE_KEYS)}; "
                f"known keys: {', '.join(_TABLE_KEYS)}"
            )
    service = table.get("service", REFERENCE_SERVICE)
    if not isinstance(service, str) or not _is_module_name(service):
        raise ServiceError(
            f"{where} service must be a module name such as {REFERENCE_SERVICE!r}, got {service!r}"
        )
    return service


def import_project_module(module: str, *, start: Path | None = None) -> ModuleType:
    """Import `module`, looking in the project around `start` too when it is not installed.

    The project's folder (the nearest `pyproject.toml`'s, from `start` or the working
    directory up) and `start` itself go first on `sys.path`, as `python -m` would put the
    working directory, but only when `module` cannot be found without them.

    Raises:
        ServiceError: No module `module` exists, or importing it raised (names the error).
    """
    try:
        return _import(module)
    except _Missing:
        pass
    folder = (start or Path.cwd()).resolve()
    pyproject = _pyproject(folder)
    for path in dict.fromkeys((folder, *(() if pyproject is None else (pyproject.parent,)))):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    importlib.invalidate_caches()  # the folders' listings may predate the service's files
    try:
        return _import(module)
    except _Missing:
        raise ServiceError(
            f"no module named {module!r} (searched the installed packages and {folder})"
        ) from None


class _Missing(Exception):
    """The module asked for (or a package above it) does not exist."""


def _import(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        # Distinguish the module being absent from a missing import inside it.
        if error.name is not None and (module == error.name or module.startswith(f"{error.name}.")):
            raise _Missing(module) from error
        raise ServiceError(f"importing {module!r} failed: {error}") from error
    except Exception as error:  # an error inside the user's module: name it, don't crash
        raise ServiceError(
            f"importing {module!r} failed: {type(error).__name__}: {error}"
        ) from error


def _submodule(package: ModuleType, part: str, attribute: str) -> Any:
    name = f"{package.__name__}.{part}"
    try:
        module = _import(name)
    except _Missing:
        raise ServiceError(
            f"service {package.__name__!r} has no module {name!r} (it must define {attribute})"
        ) from None
    if not hasattr(module, attribute):
        raise ServiceError(f"{name} defines no {attribute}")
    return getattr(module, attribute)


def _demo(module: str, sagas: Mapping[str, Saga]) -> Demo | None:
    name = f"{module}.demo"
    try:
        demo = _import(name)
    except _Missing:
        return None  # the demo is optional
    if not hasattr(demo, "DEMO"):
        raise ServiceError(f"{name} defines no DEMO")
    value = demo.DEMO
    where = f"{name}.DEMO"
    if not isinstance(value, Demo):
        raise ServiceError(
            f"{where} must be a stepsaga.infra.project.Demo, got {type(value).__name__}"
        )
    for field_name in ("seed", "summary"):
        hook = getattr(value, field_name)
        if hook is not None and not callable(hook):
            raise ServiceError(f"{where}.{field_name} must be a function or None")
    if isinstance(value.scenarios, str | bytes) or not value.scenarios:
        raise ServiceError(f"{where}.scenarios must list at least one Scenario")
    seen: set[str] = set()
    for index, scenario in enumerate(value.scenarios):
        at = f"{where}.scenarios[{index}]"
        if not isinstance(scenario, Scenario):
            raise ServiceError(f"{at} is a {type(scenario).__name__}, not a Scenario")
        if not isinstance(scenario.name, str) or not _SCENARIO_NAME.fullmatch(scenario.name):
            raise ServiceError(
                f"{at}.name must be 1 to 75 letters, digits, '-' or '_', got {scenario.name!r}"
            )
        if scenario.name in seen:
            raise ServiceError(f"{where} names the scenario {scenario.name!r} twice")
        seen.add(scenario.name)
        saga = sagas.get(scenario.saga)
        if saga is None:
            raise ServiceError(
                f"scenario {scenario.name!r} runs saga {scenario.saga!r}, which {module} "
                f"does not have{_did_you_mean(str(scenario.saga), sagas)}"
            )
        try:
            saga.command.model_validate(scenario.command)
        except ValidationError as invalid:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'command'}: {error['msg']}"
                for error in invalid.errors()
            )
            raise ServiceError(
                f"scenario {scenario.name!r}: its command is not a valid "
                f"{saga.command.__name__}: {problems}"
            ) from invalid
    return Demo(tuple(value.scenarios), value.seed, value.summary)


def _sagas(module: str, value: object) -> dict[str, Saga]:
    where = f"{module}.sagas.SAGAS"
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise ServiceError(f"{where} must be a tuple of Saga, got {type(value).__name__}")
    sagas: dict[str, Saga] = {}
    for index, saga in enumerate(value):
        if not isinstance(saga, Saga):
            raise ServiceError(f"{where}[{index}] is a {type(saga).__name__}, not a Saga")
        if saga.name in sagas:
            raise ServiceError(f"{where} names the saga {saga.name!r} twice")
        sagas[saga.name] = saga
    return sagas


def _handlers(module: str, value: object) -> dict[str, StepFunction]:
    where = f"{module}.handlers.HANDLERS"
    if not isinstance(value, Mapping):
        raise ServiceError(
            f"{where} must map handler names to step functions, got {type(value).__name__}"
        )
    for key, step in value.items():
        if not isinstance(key, str):
            raise ServiceError(f"{where} has the key {key!r}; handler names are strings")
        if not callable(step):
            raise ServiceError(f"{where}[{key!r}] is a {type(step).__name__}, not a function")
    return dict(value)


def _check_handlers(
    module: str, sagas: Iterable[Saga], handlers: Mapping[str, StepFunction]
) -> None:
    problems = missing_handlers(sagas, handlers)
    if problems:
        raise ServiceError(
            "\n".join(
                f"saga {p.saga!r}, step {p.step!r}: its {p.role} handler {p.handler!r} is not in "
                f"{module}.handlers.HANDLERS"
                + (f" (did you mean {p.suggestion!r}?)" if p.suggestion else "")
                for p in problems
            )
        )


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _is_module_name(name: str) -> bool:
    return bool(name) and all(part.isidentifier() for part in name.split("."))


def _pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None
