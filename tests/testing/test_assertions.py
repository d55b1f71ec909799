"""Path assertions pass on the path taken, and fail showing the path and where it diverged.

They run on the reference service in memory (`ServiceRun`) and on the bare engine
(`Execution`); scopes and name checks need the definition an execution ran, which the engine's
coverage interface gives as `Execution.definition` (until then a small wrapper carries it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from stepsaga.examples.orders import handlers
from stepsaga.examples.orders.sagas import SAGAS
from stepsaga.infra.local.service import LocalService, ServiceRun
from stepsaga.infra.local.stepfunctions import Execution, LocalStepFunctions
from stepsaga.tasks import InMemoryEventStore, InMemoryNotifier
from stepsaga.testing import assert_not_visited, assert_path, assert_visited, path_of
from stepsaga.workflows.asl import StateMachine, parse_definition
from tests.testing.definitions import NESTED

DECLINED_PATH = (
    "Begin",
    "ReserveStock",
    "ChargePayment",
    "CompensateChargePayment",
    "CompensateReserveStock",
    "NotifyOrderFailed",
    "Failed",
)


def place_order(token: str) -> ServiceRun:
    store = InMemoryEventStore()
    service = LocalService(SAGAS, handlers.HANDLERS, event_store=store, notifier=InMemoryNotifier())
    handlers.seed_stock(store, "acme", "SKU-1", 5)
    order = {
        "orderId": "o-1",
        "customerEmail": "ann@example.com",
        "items": [{"sku": "SKU-1", "quantity": 2, "unitPrice": "9.50"}],
        "paymentToken": token,
    }
    return service.execute("PlaceOrder", order)


@pytest.fixture(scope="module")
def declined() -> ServiceRun:
    run = place_order("tok_decline")
    assert run.path == DECLINED_PATH
    return run


@dataclass
class WithDefinition:
    """An execution and the definition it ran (`Execution.definition`, for engines before it)."""

    inner: Execution
    definition: StateMachine

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture(scope="module")
def nested() -> Any:
    execution = LocalStepFunctions().run(NESTED, {"items": [1, 2]})
    assert execution.status == "SUCCEEDED", execution.cause
    if hasattr(execution, "definition"):
        return execution
    return WithDefinition(execution, parse_definition(NESTED))


def failure(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(AssertionError) as raised:
        call(*args, **kwargs)
    return str(raised.value)


def test_the_path_taken_passes(declined: ServiceRun) -> None:
    assert_path(declined, list(DECLINED_PATH))
    assert_path(declined.execution, DECLINED_PATH)  # the bare engine execution, from its history
    assert path_of(declined.execution) == DECLINED_PATH


def test_a_different_path_fails_pointing_at_the_first_divergence(declined: ServiceRun) -> None:
    happy = ["Begin", "ReserveStock", "ChargePayment", "ConfirmOrder", "NotifyCustomer"]

    message = failure(assert_path, declined, happy)

    assert message.splitlines() == [
        "path: differs at state #4: expected 'ConfirmOrder', got 'CompensateChargePayment'; "
        "the execution FAILED with PaymentDeclined",
        "    #  expected        actual",
        "    1  Begin           Begin",
        "    2  ReserveStock    ReserveStock",
        "    3  ChargePayment   ChargePayment",
        "  > 4  ConfirmOrder    CompensateChargePayment",
        "    5  NotifyCustomer  CompensateReserveStock",
        "    6                  NotifyOrderFailed",
        "    7                  Failed",
    ]


def test_a_path_that_ends_early_or_goes_on_says_so(declined: ServiceRun) -> None:
    longer = failure(assert_path, declined, [*DECLINED_PATH, "CompensationFailed"])
    assert longer.splitlines()[0].startswith(
        "path: ended after 7 states; expected 'CompensationFailed' as state #8"
    )
    assert "  > 8  CompensationFailed" in longer

    shorter = failure(assert_path, declined, DECLINED_PATH[:2])
    assert shorter.splitlines()[0].startswith(
        "path: goes on past the 2 expected states: state #3 is 'ChargePayment'"
    )
    assert re.search(r"^  > 3 +ChargePayment$", shorter, re.MULTILINE)


def test_an_ellipsis_stands_for_any_states(declined: ServiceRun) -> None:
    assert_path(declined, ["Begin", "ReserveStock", ...])
    assert_path(declined, [..., "CompensateReserveStock", ..., "Failed"])
    assert_path(declined, ["Begin", ..., "ChargePayment", "CompensateChargePayment", ...])
    assert_path(declined, [...])


def test_a_pattern_that_does_not_fit_names_what_is_missing(declined: ServiceRun) -> None:
    message = failure(assert_path, declined, ["Begin", ..., "ConfirmOrder", ...])

    lines = message.splitlines()
    assert lines[0] == (
        "path: expected ConfirmOrder after state #1; it is not there; "
        "the execution FAILED with PaymentDeclined"
    )
    assert lines[1] == "expected: Begin → … → ConfirmOrder → …"
    assert lines[2] == "actual (7 states):"
    assert lines[4] == "  > 2  ReserveStock"


def test_a_pattern_with_the_wrong_ending_shows_the_end(declined: ServiceRun) -> None:
    message = failure(assert_path, declined, [..., "NotifyCustomer"])

    assert message.splitlines()[0].startswith(
        "path: expected it to end with NotifyCustomer; it ends with Failed"
    )
    assert "  > 7  Failed" in message


def test_visited_states_pass_and_a_missing_one_is_named(declined: ServiceRun) -> None:
    assert_visited(declined, "CompensateReserveStock", "Begin")

    message = failure(assert_visited, declined, "ConfirmOrder", "Begin", "NotifyCustomer")

    assert message.splitlines() == [
        "path: never entered: 'ConfirmOrder', 'NotifyCustomer'; "
        "the execution FAILED with PaymentDeclined",
        "path: " + " → ".join(DECLINED_PATH),
    ]


def test_states_not_visited_pass_and_a_visited_one_is_named_with_its_place(
    declined: ServiceRun,
) -> None:
    assert_not_visited(declined, "ConfirmOrder", "NotifyCustomer")

    message = failure(assert_not_visited, declined, "ConfirmOrder", "Failed")

    assert message.splitlines()[0] == (
        "path: entered, but should not have been: 'Failed' (state #7); "
        "the execution FAILED with PaymentDeclined"
    )


def test_a_scope_keeps_one_graphs_states(nested: Any) -> None:
    assert path_of(nested) == (
        "Fan",
        "A",
        "B",
        "B2",
        "Each",
        "Item",
        "Item",
        "Old",
        "OldItem",
        "OldItem",
    )
    assert path_of(nested, scope="") == ("Fan", "Each", "Old")
    assert_path(nested, ["B", "B2"], scope="/States/Fan/Branches/1")
    assert_path(nested, ["Item", "Item"], scope="/States/Each/ItemProcessor")
    # A legacy Iterator body is the same graph, whichever field names it.
    assert_path(nested, ["OldItem", "OldItem"], scope="/States/Old/Iterator")
    assert_path(nested, ["OldItem", "OldItem"], scope="/States/Old/ItemProcessor")

    message = failure(assert_path, nested, ["Fan", "Old"], scope="")
    assert message.splitlines()[0] == (
        "path (scope ''): differs at state #2: expected 'Old', got 'Each'; the execution SUCCEEDED"
    )


def test_a_misspelt_state_is_refused_instead_of_passing(nested: Any) -> None:
    with pytest.raises(
        ValueError, match=r"'Eech' is not a state of this state machine \(did you mean 'Each'\?\)"
    ):
        assert_not_visited(nested, "Eech")
    with pytest.raises(
        ValueError, match="'Item' is in scope '/States/Each/ItemProcessor', not in scope ''"
    ):
        assert_not_visited(nested, "Item", scope="")
    with pytest.raises(
        ValueError,
        match=r"scope '/States/Nope' is no graph of this state machine; its scopes are '', ",
    ):
        path_of(nested, scope="/States/Nope")


def test_without_the_definition_names_go_unchecked_and_a_scope_is_refused(
    declined: ServiceRun,
) -> None:
    # An execution-like object that carries only its history (an engine before
    # Execution.definition, or a hand-made record).
    @dataclass
    class HistoryOnly:
        history: list[dict[str, Any]]

    bare = HistoryOnly(declined.execution.history)
    assert_not_visited(bare, "NoSuchState")
    with pytest.raises(ValueError, match=r"scope= needs the definition the execution ran"):
        path_of(bare, scope="")


def test_asserting_nothing_is_refused(declined: ServiceRun) -> None:
    with pytest.raises(ValueError, match="assert_visited needs at least one state name"):
        assert_visited(declined)
    with pytest.raises(ValueError, match="assert_not_visited needs at least one state name"):
        assert_not_visited(declined)
    with pytest.raises(TypeError, match="expected must be a sequence of state names"):
        assert_path(declined, "Begin")
    with pytest.raises(TypeError, match="expected an Execution or a ServiceRun, got dict"):
        path_of({"path": []})  # type: ignore[arg-type]


def test_a_long_path_is_shown_around_the_divergence() -> None:
    # GIVEN a Map over 40 items: its body is entered 40 times
    execution = LocalStepFunctions().run(NESTED, {"items": list(range(40))})
    path = path_of(execution)
    assert len(path) == 5 + 40 + 1 + 40

    # WHEN the expected path diverges deep inside it
    expected = list(path)
    expected[60] = "Item"
    message = failure(assert_path, execution, expected)

    # THEN ten states either side of it are listed, and the rest counted
    lines = message.splitlines()
    assert lines[0].startswith("path: differs at state #61: expected 'Item', got 'OldItem'")
    assert lines[2] == "     …  (50 states before)"
    assert lines[13] == "  > 61  Item      OldItem"
    assert lines[-1] == "     …  (15 states after)"
    assert len(lines) == 2 + 1 + 21 + 1
