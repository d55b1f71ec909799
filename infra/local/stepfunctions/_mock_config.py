"""Step Functions Local's MockConfigFile format, as a task mock for the engine.

A mock config names test cases per state machine; each maps Task states to a mocked
response, and each mocked response lists, per invocation (``"0"``, ``"1-2"``...), either a
``Return`` (the task's result) or a ``Throw`` (``Error`` and ``Cause``)::

    {"StateMachines": {"PlaceOrder": {"TestCases": {"PaymentFails": {"Pay": "PayDeclined"}}}},
     "MockedResponses": {"PayDeclined": {"0": {"Throw": {"Error": "Card.Declined",
                                                        "Cause": "insufficient funds"}}}}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stepsaga.infra.local.stepfunctions._errors import DefinitionError
from stepsaga.infra.local.stepfunctions._tasks import TaskCall, TaskMock, TaskOutcome
from stepsaga.workflows import facts


class MockConfig:
    """A parsed MockConfigFile.

    Args:
        source: the config as a mapping, JSON text, or a path to a JSON file.

    Raises:
        DefinitionError: the config is malformed (the pointer names the offending entry).
    """

    def __init__(self, source: Mapping[str, Any] | str | Path) -> None:
        if isinstance(source, Path) or (
            isinstance(source, str) and not source.lstrip().startswith("{")
        ):
            source = Path(source).read_text(encoding="utf-8")
        data: Any = json.loads(source) if isinstance(source, str) else source
        if not isinstance(data, Mapping):
            raise DefinitionError("a mock config must be a JSON object")
        self._machines: Mapping[str, Any] = _machines(data.get("StateMachines") or {})
        self._responses: dict[str, list[tuple[int, int, TaskOutcome]]] = {}
        for name, ranges in (data.get("MockedResponses") or {}).items():
            self._responses[name] = _parse_ranges(name, ranges)

    def mock(self, state_machine: str, test_case: str) -> TaskMock:
        """The task mock for one test case (pass it to ``LocalStepFunctions.mock_tasks``).

        States the test case does not name run for real (the mock returns None for them).
        Invocations are counted per execution and state, retries included; an invocation past
        those the mocked response lists fails the execution with ``States.Runtime``.

        Raises:
            DefinitionError: the state machine, test case or a mocked response is unknown.
        """
        machine = self._machines.get(state_machine)
        if machine is None:
            raise DefinitionError(
                f"no state machine {state_machine!r} in the mock config",
                pointer=f"/StateMachines/{state_machine}",
            )
        case = (machine.get("TestCases") or {}).get(test_case)
        if case is None:
            raise DefinitionError(
                f"no test case {test_case!r} for {state_machine!r}",
                pointer=f"/StateMachines/{state_machine}/TestCases/{test_case}",
            )
        plan: dict[str, tuple[str, list[tuple[int, int, TaskOutcome]]]] = {}
        for state, response in case.items():
            if response not in self._responses:
                raise DefinitionError(
                    f"test case {test_case!r} names an unknown mocked response {response!r}",
                    pointer=f"/StateMachines/{state_machine}/TestCases/{test_case}/{state}",
                )
            plan[state] = (response, self._responses[response])
        counts: dict[tuple[str, str], int] = {}

        def answer(call: TaskCall) -> TaskOutcome | None:
            mocked = plan.get(call.state_name)
            if mocked is None:
                return None
            response, ranges = mocked
            key = (call.execution_arn, call.state_name)
            attempt = counts.get(key, 0)
            counts[key] = attempt + 1
            for first, last, outcome in ranges:
                if first <= attempt <= last:
                    return outcome
            # AWS's rule: a mocked state invoked more often than its response lists fails the
            # execution (a mistake in the test case, not a failure a Catcher should handle).
            return TaskOutcome.failure(
                facts.STATES_RUNTIME,
                f"The mocked response {response!r} of test case {test_case!r} has no answer "
                f"for invocation {attempt} of state {call.state_name!r} (it lists "
                f"{_listed(ranges)}).",
            )

        return answer


def _machines(machines: Any) -> Mapping[str, Any]:
    """``StateMachines`` checked when loaded, so a bad entry is named before it is used."""
    if not isinstance(machines, Mapping):
        raise DefinitionError("StateMachines must be an object", pointer="/StateMachines")
    for name, machine in machines.items():
        pointer = f"/StateMachines/{name}"
        cases = machine.get("TestCases") if isinstance(machine, Mapping) else None
        if not isinstance(cases, Mapping):
            raise DefinitionError("a state machine's TestCases must be an object", pointer=pointer)
        for case, states in cases.items():
            if not isinstance(states, Mapping) or not all(
                isinstance(response, str) for response in states.values()
            ):
                raise DefinitionError(
                    "a test case maps state names to mocked response names",
                    pointer=f"{pointer}/TestCases/{case}",
                )
    return machines


def _parse_ranges(name: str, ranges: Any) -> list[tuple[int, int, TaskOutcome]]:
    pointer = f"/MockedResponses/{name}"
    if not isinstance(ranges, Mapping) or not ranges:
        raise DefinitionError("a mocked response lists invocations", pointer=pointer)
    parsed = []
    for key, response in ranges.items():
        first_text, _, last_text = str(key).partition("-")
        try:
            first = int(first_text)
            last = int(last_text) if last_text else first
        except ValueError:
            raise DefinitionError(
                f"invocation key {key!r} is not N or N-M", pointer=f"{pointer}/{key}"
            ) from None
        if not isinstance(response, Mapping):
            raise DefinitionError(
                "a mocked invocation is an object with Return or Throw", pointer=f"{pointer}/{key}"
            )
        if "Return" in response:
            outcome = TaskOutcome.success(response["Return"])
        elif "Throw" in response:
            thrown = response["Throw"]
            outcome = TaskOutcome.failure(str(thrown.get("Error", "")), thrown.get("Cause"))
        else:
            raise DefinitionError(
                "a mocked invocation needs Return or Throw", pointer=f"{pointer}/{key}"
            )
        parsed.append((first, last, outcome))
    parsed.sort(key=lambda entry: entry[0])
    return parsed


def _listed(ranges: list[tuple[int, int, TaskOutcome]]) -> str:
    return ", ".join(
        str(first) if first == last else f"{first}-{last}" for first, last, _ in ranges
    )
