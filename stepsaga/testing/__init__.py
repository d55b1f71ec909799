"""What stepsaga's users test with: a pytest plugin, path assertions, Step Functions coverage.

The plugin is registered with pytest through the `pytest11` entry point `stepsaga`
(`stepsaga.testing.plugin`): installing stepsaga is enough, there is nothing to add to a
`conftest.py`. `pytest -p no:stepsaga` turns it off.

Fixtures
--------
`sfn`
    A fresh embedded engine (`stepsaga.infra.local.stepfunctions.LocalStepFunctions`) for each
    test, seeded with `--stepsaga-seed`.
`saga_service`
    A fresh `stepsaga.infra.local.service.LocalService` for each test: the configured service's
    sagas on the engine, its step handlers in-process, on empty in-memory stores (its
    `event_store` is an `InMemoryEventStore`). The service is `--stepsaga-service MODULE`, else
    `[tool.stepsaga] service` in the nearest `pyproject.toml` (from pytest's rootdir up), else
    the reference service, found by the one loader every stepsaga command uses
    (`stepsaga.infra.project.load_service`). Mark a test
    `@pytest.mark.saga_service(moto=True)` to run it on moto's DynamoDB and SES v2 instead.

Options
-------
`--stepsaga-service MODULE`
    The service `saga_service` runs.
`--stepsaga-seed N`
    The seed of the engines the fixtures build (default 0).
`--sfn-coverage`
    At the end of the run, report for each state machine executed (by any engine in the test
    process, the fixtures' or one a test builds) which states were entered and which
    transitions were taken: each state's `Next` or `End`, a Choice's `Default` and each of
    its rules, each catcher and each retrier, in Parallel branches and Map bodies too. A
    definition is named by its state machine name (a saga's name), or, when it ran unnamed,
    by a short hash of its canonical JSON with its `StartAt`. Works under pytest-xdist: the
    workers send their counts to the controller, which reports once.
`--sfn-coverage-json PATH`
    Also write the report as JSON (implies `--sfn-coverage`).
`--sfn-coverage-fail-under PCT`
    Fail the run (exit code 1) when a definition's transition coverage is below PCT percent,
    naming each such definition (implies `--sfn-coverage`).

The terminal report looks like this::

    ---------------------- stepsaga: Step Functions coverage ----------------------
    definition                  executions  states        transitions
    PlaceOrder                           2  10/11  90%    12/25  48%
    5f0c2a91 (StartAt Check)             3   3/3  100%     3/4   75%
    TOTAL                                5  13/14  92%    15/29  51%

    PlaceOrder: never entered: /States/CompensationFailed
    PlaceOrder: never taken:
      /States/ReserveStock/Retry/0 → ReserveStock (retry)
      /States/ReserveStock/Catch/0 → CompensateReserveStock
      ...
    5f0c2a91 (StartAt Check): never taken:
      /States/Check/Choices/1 → Approve

and the JSON report holds, per definition, the same figures, every state and transition with
its JSON pointer and how often it was entered or taken, and the lists of those missed::

    {"version": 1,
     "totals": {"definitions": 2, "executions": 5,
                "states": {"covered": 13, "total": 14, "percent": 92.86}, "transitions": ...},
     "definitions": [
       {"key": "PlaceOrder", "name": "PlaceOrder", "label": "PlaceOrder", "digests": [...],
        "start_at": "Begin", "comment": null, "executions": 2,
        "states": {...}, "transitions": {"covered": 12, "total": 25, "percent": 48.0},
        "missed_states": ["/States/CompensationFailed"],
        "missed_transitions": ["/States/ReserveStock/Retry/0 → ReserveStock (retry)", ...],
        "state_counts": [{"pointer": "/States/Begin", "scope": "", "state": "Begin",
                          "executions": 2}, ...],
        "transition_counts": [{"pointer": "/States/Begin/Next", "scope": "", "source": "Begin",
                               "via": "Next", "target": "ReserveStock", "taken": 2}, ...]}],
     "errors": []}

A state counts as entered when an execution started there or a transition left or reached it;
`states.executions` counts the executions that entered it, `transitions.taken` every time a
transition was taken (each retry, each Map iteration). A failure no catcher handles is not a
transition the definition writes, so it counts towards no transition.

Path assertions
---------------
`assert_path(run, expected, *, scope=None)`, `assert_visited(run, *states, scope=None)` and
`assert_not_visited(run, *states, scope=None)` take an engine `Execution` or a `ServiceRun`
(`LocalService.execute`'s result) and check the states it entered, in order, read from its
history; `path_of(run, scope=None)` returns them. `scope` keeps one graph's states (`""` the
top level, `"/States/P/Branches/0"`, `"/States/M/ItemProcessor"`). In `expected`, `...` stands
for any states. A failure shows the actual path and points at the first divergence::

    path: differs at state #3: expected 'ChargePayment', got 'CompensateReserveStock'; the
    execution FAILED with PaymentDeclined
          #  expected       actual
          1  Begin          Begin
          2  ReserveStock   ReserveStock
        > 3  ChargePayment  CompensateReserveStock
          4                 NotifyOrderFailed
          5                 Failed

Names are checked against the definition the execution ran, when the engine gives it, so a
misspelt state fails instead of passing `assert_not_visited`.

In a test
---------
A test of the reference service, run with `pytest --sfn-coverage`::

    from stepsaga.examples.orders.handlers import seed_stock
    from stepsaga.testing import assert_not_visited, assert_path

    ORDER = {
        "orderId": "o-1",
        "customerEmail": "ann@example.com",
        "items": [{"sku": "SKU-1", "quantity": 2, "unitPrice": "9.50"}],
        "paymentToken": "tok_decline",
    }

    def test_a_declined_payment_releases_the_stock(saga_service):
        seed_stock(saga_service.event_store, "acme", "SKU-1", 5)
        run = saga_service.execute("PlaceOrder", ORDER)
        assert_path(run, ["Begin", "ReserveStock", "ChargePayment", ..., "Failed"])
        assert_not_visited(run, "ConfirmOrder", "NotifyCustomer")
"""

from stepsaga.testing._assertions import assert_not_visited, assert_path, assert_visited, path_of

# Nothing here may import the engine, moto or the query libraries at import time: pytest
# imports this package (through the plugin) in every run where stepsaga is installed.
__all__ = (
    "assert_not_visited",
    "assert_path",
    "assert_visited",
    "path_of",
)
