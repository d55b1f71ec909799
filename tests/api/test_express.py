"""EXPRESS machines: their own execution ARNs, StartSyncExecution, and what they do not support."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import PASS, error_code, error_message

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

EXPRESS_ARN = re.compile(
    r"arn:aws:states:us-east-1:123456789012:express:Quick:(?P<name>[^:]+):[0-9a-f-]{36}"
)
SLOW = {
    "StartAt": "Pause",
    "States": {
        "Pause": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
        "Done": {"Type": "Pass", "Result": "late", "End": True},
    },
}
FAILING = {"StartAt": "No", "States": {"No": {"Type": "Fail", "Error": "Nope", "Cause": "why"}}}


@pytest.fixture
def express(machine: Callable[..., str]) -> Callable[..., str]:
    def create(definition: Mapping[str, Any] = PASS) -> str:
        return machine(definition, name="Quick", type="EXPRESS")

    return create


def test_an_express_execution_has_an_express_arn_and_names_are_not_idempotent(
    client: SFNClient, express: Callable[..., str]
) -> None:
    arn = express()
    first = client.start_execution(stateMachineArn=arn, name="same")["executionArn"]
    second = client.start_execution(stateMachineArn=arn, name="same")["executionArn"]
    assert EXPRESS_ARN.fullmatch(first) and EXPRESS_ARN.fullmatch(second)
    assert first != second
    assert client.describe_state_machine(stateMachineArn=arn)["type"] == "EXPRESS"


@pytest.mark.parametrize(
    "operation", ["describe_execution", "get_execution_history", "stop_execution"]
)
def test_an_express_execution_cannot_be_described_read_or_stopped(
    client: SFNClient, express: Callable[..., str], operation: str
) -> None:
    execution = client.start_execution(stateMachineArn=express())["executionArn"]
    with pytest.raises(ClientError) as excinfo:
        getattr(client, operation)(executionArn=execution)
    assert error_code(excinfo) == "InvalidArn"
    assert (
        error_message(excinfo) == "Invalid Arn: 'Resource type not valid in this context: express'"
    )


def test_the_executions_of_an_express_machine_cannot_be_listed(
    client: SFNClient, express: Callable[..., str]
) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.list_executions(stateMachineArn=express())
    assert error_code(excinfo) == "StateMachineTypeNotSupported"


def test_a_sync_execution_answers_with_its_output_once_it_has_ended(
    client: SFNClient, express: Callable[..., str]
) -> None:
    answer = client.start_sync_execution(stateMachineArn=express(SLOW), input='{"a": 1}')
    assert answer["status"] == "SUCCEEDED"
    assert answer["output"] == '"late"'
    assert json.loads(answer["input"]) == {"a": 1}
    assert (answer["stopDate"] - answer["startDate"]).total_seconds() == 3600
    match = EXPRESS_ARN.fullmatch(answer["executionArn"])
    assert match is not None and match["name"] == answer["name"]
    billing = answer["billingDetails"]
    assert billing["billedMemoryUsedInMB"] == 64
    assert billing["billedDurationInMilliseconds"] % 100 == 0


def test_a_failed_sync_execution_answers_with_its_error_and_cause(
    client: SFNClient, express: Callable[..., str]
) -> None:
    answer = client.start_sync_execution(stateMachineArn=express(FAILING))
    assert (answer["status"], answer["error"], answer["cause"]) == ("FAILED", "Nope", "why")
    assert "output" not in answer


def test_a_sync_execution_of_a_standard_machine_is_state_machine_type_not_supported(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.start_sync_execution(stateMachineArn=machine())
    assert error_code(excinfo) == "StateMachineTypeNotSupported"


def test_a_sync_execution_with_metadata_only_leaves_the_data_out(
    client: SFNClient, express: Callable[..., str]
) -> None:
    answer = client.start_sync_execution(
        stateMachineArn=express(), input='{"secret": 1}', includedData="METADATA_ONLY"
    )
    assert "input" not in answer and "output" not in answer
    assert answer["inputDetails"] == {"included": False}
