"""What stepsaga's users test with: a pytest plugin, path assertions, Step Functions coverage.

The plugin comes with stepsaga: it is the `pytest11` entry point `stepsaga`
(`stepsaga.testing.plugin`), so nothing goes into a `conftest.py`; `pytest -p no:stepsaga`
turns it off. It imports neither the engine nor moto until a fixture or an option needs them.

Fixtures:
    `sfn`: a fresh embedded engine per test
    (`stepsaga.infra.local.stepfunctions.LocalStepFunctions`), seeded with `--stepsaga-seed`.

    `saga_service`: a fresh `stepsaga.infra.local.service.LocalService` per test, the
    configured service's sagas on the engine and its step handlers in-process, on empty
    in-memory stores (`event_store` is an `InMemoryEventStore`). The service is
    `--stepsaga-service MODULE`, else `[tool.stepsaga] service` in the nearest `pyproject.toml`
    (from pytest's rootdir up), else the reference service: the one loader every stepsaga
    command uses (`stepsaga.infra.project.load_service`). A test marked
    `@pytest.mark.saga_service(moto=True)` runs on moto's DynamoDB and SES v2 instead.

    `sfn_client`: a real boto3 `stepfunctions` client answered in-process by the test's `sfn`
    engine (`sfn.client()`): no socket, no AWS configuration; code under test that takes a
    client (StartExecution, SendTaskSuccess, ...) runs against the engine, and
    `sfn.register_lambda` gives its Lambda tasks their handlers.

    `sfn_local_url`: the URL (`http://127.0.0.1:<port>`) of a `stepsaga local` server that
    the fixture starts on a free port in a thread, once per session, and stops at the end:
    for code that takes an `endpoint_url`, as it would for Step Functions Local. It serves
    the configured service's handlers as Lambda functions, and the MockConfigFile that
    `SFN_MOCK_CONFIG` names (`stateMachineArn#TestCase`); its state machines and executions
    last the whole session, so give each test's machines names of their own.

    `stepfunctions_local`: Step Functions Local (`amazon/aws-stepfunctions-local`) in a
    container, calling the service's handlers over a local Lambda endpoint
    (`stepsaga.infra.local.stepfunctions_local.StepFunctionsLocalBackend`); it skips, saying
    why, when no Docker engine answers.

Options:
    `--stepsaga-service MODULE`: the service `saga_service` runs.

    `--stepsaga-seed N`: the seed of the engines the fixtures build (default 0).

    `--sfn-coverage`: at the end of the run, for each state machine that any engine of the
    test process executed (the fixtures' or one a test builds), which states were entered and
    which transitions taken: each state's `Next` or `End`, a Choice's `Default` and each of
    its rules, each catcher, each retrier, in Parallel branches and Map bodies too. A
    definition is named by its state machine's name (a `LocalService` saga's name), or, when
    it ran unnamed, by a short hash of its canonical JSON and its `StartAt`. Under
    pytest-xdist the workers send their counts to the controller, which reports once.

    `--sfn-coverage-json PATH`: also write the report as JSON (implies `--sfn-coverage`).

    `--sfn-coverage-fail-under PCT`: fail the run (exit code 1) when a definition's transition
    coverage is below PCT percent, or when no execution was observed, naming each definition
    below it (implies `--sfn-coverage`).

The report, in the terminal::

    ---------------------- stepsaga: Step Functions coverage -----------------------
    definition              executions      states  transitions
    Approval                         2    3/4  75%     5/8  62%
    530e1859 (StartAt Fan)           2    8/8 100%     8/8 100%
    TOTAL                            4  11/12  91%   13/16  81%

    Approval: never entered:
      /States/Reject
    Approval: never taken:
      /States/Check/Choices/1 → Reject
      /States/Review/Catch/0 → Reject
      /States/Reject → (end)
    JSON report: /home/ann/shop/sfn.json
    FAIL Approval: transition coverage 62.5% (5/8) is below --sfn-coverage-fail-under 70%

and as JSON, per definition, the same figures, the lists of what was missed, and every state
and transition with its JSON pointer and count (cut short here)::

    {"version": 1,
     "totals": {"definitions": 2, "executions": 4,
                "states": {"covered": 11, "total": 12, "percent": 91.67},
                "transitions": {"covered": 13, "total": 16, "percent": 81.25}},
     "definitions": [
      {"key": "Approval", "name": "Approval", "label": "Approval", "digests": ["ef7b30a6"],
       "start_at": "Check", "comment": "order approval", "executions": 2,
       "states": {"covered": 3, "total": 4, "percent": 75.0},
       "transitions": {"covered": 5, "total": 8, "percent": 62.5},
       "missed_states": ["/States/Reject"],
       "missed_transitions": ["/States/Check/Choices/1 → Reject",
                              "/States/Review/Catch/0 → Reject", "/States/Reject → (end)"],
       "state_counts": [{"pointer": "/States/Check", "scope": "", "state": "Check",
                         "executions": 2}, ...],
       "transition_counts": [{"pointer": "/States/Check/Choices/0", "scope": "",
                              "source": "Check", "via": "Choices/0", "target": "Approve",
                              "taken": 1}, ...]},
      ...],
     "errors": []}

A state counts as entered in an execution that started there or took a transition from or to
it (`executions` counts those executions); a transition's `taken` counts every time (each
retry, each Map iteration). A failure that no catcher handles is no transition the definition
writes, so it counts towards none. The coverage reads what the engine reports of each closed
execution: `Execution.definition`, `Execution.transitions` and `observe_executions`.

Path assertions:
    `assert_path(run, expected, *, scope=None)`, `assert_visited(run, *states, scope=None)`
    and `assert_not_visited(run, *states, scope=None)` take an engine `Execution` or a
    `ServiceRun` (what `LocalService.execute` returns) and check the states it entered, in
    order, as its history shows them; `path_of(run, scope=None)` returns them. `...` in
    `expected` stands for any states. `scope` keeps one graph's states: `""` the top level,
    `"/States/P/Branches/0"` a Parallel branch, `"/States/M/ItemProcessor"` a Map body. When
    the execution carries its definition, every name is checked against it, so a misspelt
    state fails instead of passing `assert_not_visited`. A failure shows the actual path and
    points at the first divergence::

        path: differs at state #4: expected 'ConfirmOrder', got 'CompensateChargePayment'; the
        execution FAILED with PaymentDeclined
            #  expected        actual
            1  Begin           Begin
            2  ReserveStock    ReserveStock
            3  ChargePayment   ChargePayment
          > 4  ConfirmOrder    CompensateChargePayment
            5  NotifyCustomer  CompensateReserveStock
            6                  NotifyOrderFailed
            7                  Failed

Example:
    A test of the reference service (run it with `pytest --sfn-coverage`)::

        from stepsaga.examples.orders.handlers import seed_stock, stock_level
        from stepsaga.testing import assert_not_visited, assert_path

        DECLINED = {
            "orderId": "o-1",
            "customerEmail": "ann@example.com",
            "items": [{"sku": "SKU-1", "quantity": 2, "unitPrice": "9.50"}],
            "paymentToken": "tok_decline",
        }


        def test_a_declined_payment_releases_the_stock(saga_service):
            seed_stock(saga_service.event_store, "acme", "SKU-1", 5)
            run = saga_service.execute("PlaceOrder", DECLINED)
            assert_path(run, ["Begin", "ReserveStock", "ChargePayment", ..., "Failed"])
            assert_not_visited(run, "ConfirmOrder", "NotifyCustomer")
            assert stock_level(saga_service.event_store, "acme", "SKU-1") == 5
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
