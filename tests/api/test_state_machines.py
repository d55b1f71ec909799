"""State machines through the boto3 client: create, update, describe, list, delete, validate."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from stepsaga.infra.local.stepfunctions import LocalStepFunctions
from tests.api.conftest import PASS, ROLE, WAITING, error_code, error_message

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

BROKEN = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}


def test_a_created_machine_is_described_with_its_definition_and_defaults(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine(PASS, name="Greeter")
    described = client.describe_state_machine(stateMachineArn=arn)
    assert arn == "arn:aws:states:us-east-1:123456789012:stateMachine:Greeter"
    assert json.loads(described["definition"]) == PASS
    assert described["name"] == "Greeter"
    assert described["status"] == "ACTIVE"
    assert described["type"] == "STANDARD"
    assert described["roleArn"] == ROLE
    assert described["loggingConfiguration"] == {"level": "OFF", "includeExecutionData": False}
    assert described["tracingConfiguration"] == {"enabled": False}
    assert "revisionId" not in described  # only an update makes a revision


def test_creating_the_same_machine_again_returns_it_and_ignores_another_role(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine(PASS, name="Same")
    first = client.describe_state_machine(stateMachineArn=arn)["creationDate"]
    again = client.create_state_machine(
        name="Same", definition=json.dumps(PASS), roleArn="arn:aws:iam::123456789012:role/other"
    )
    assert again["stateMachineArn"] == arn
    assert again["creationDate"] == first
    assert client.describe_state_machine(stateMachineArn=arn)["roleArn"] == ROLE


def test_a_name_taken_by_another_definition_is_state_machine_already_exists(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine(PASS, name="Taken")
    other = {"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}
    with pytest.raises(ClientError) as excinfo:
        client.create_state_machine(name="Taken", definition=json.dumps(other), roleArn=ROLE)
    assert error_code(excinfo) == "StateMachineAlreadyExists"
    assert arn in error_message(excinfo)


def test_an_invalid_definition_is_refused_with_each_problem_and_its_pointer(
    client: SFNClient,
) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.create_state_machine(name="Broken", definition=json.dumps(BROKEN), roleArn=ROLE)
    assert error_code(excinfo) == "InvalidDefinition"
    message = error_message(excinfo)
    assert message.startswith("Invalid State Machine Definition: '")
    assert "MISSING_TRANSITION_TARGET" in message
    assert "at /States/A/Next" in message
    assert "MISSING_END_STATE" in message


def test_a_definition_that_is_not_json_is_invalid_definition(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.create_state_machine(name="Text", definition="{not json", roleArn=ROLE)
    assert error_code(excinfo) == "InvalidDefinition"
    assert "INVALID_JSON_DESCRIPTION" in error_message(excinfo)


def test_an_express_machine_may_not_wait_for_a_task_token(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.create_state_machine(
            name="Fast", definition=json.dumps(WAITING), roleArn=ROLE, type="EXPRESS"
        )
    assert error_code(excinfo) == "InvalidDefinition"
    assert (
        "Express state machine does not support '.waitForTaskToken' service integration "
        "at /States/Ask/Resource"
    ) in error_message(excinfo)


@pytest.mark.parametrize("name", ["with space", "a/b", "tab\there", "hash#tag", "ctl\x7f"])
def test_a_name_with_a_forbidden_character_is_invalid_name(client: SFNClient, name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.create_state_machine(name=name, definition=json.dumps(PASS), roleArn=ROLE)
    assert error_code(excinfo) == "InvalidName"


def test_a_role_that_is_not_an_iam_role_arn_is_invalid_arn(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.create_state_machine(name="M", definition=json.dumps(PASS), roleArn="my-role")
    assert error_code(excinfo) == "InvalidArn"


def test_logging_at_a_level_without_a_destination_is_invalid_logging_configuration(
    client: SFNClient,
) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.create_state_machine(
            name="Logged",
            definition=json.dumps(PASS),
            roleArn=ROLE,
            loggingConfiguration={"level": "ALL"},
        )
    assert error_code(excinfo) == "InvalidLoggingConfiguration"


def test_publishing_a_version_is_refused_as_not_supported(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.create_state_machine(
            name="V", definition=json.dumps(PASS), roleArn=ROLE, publish=True
        )
    assert error_code(excinfo) == "ValidationException"
    assert "versions" in error_message(excinfo)


def test_describing_an_unknown_machine_is_state_machine_does_not_exist(client: SFNClient) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:Nobody"
    with pytest.raises(ClientError) as excinfo:
        client.describe_state_machine(stateMachineArn=arn)
    assert error_code(excinfo) == "StateMachineDoesNotExist"
    assert error_message(excinfo) == f"State Machine Does Not Exist: '{arn}'"


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("not-an-arn", "Invalid Arn: 'not-an-arn'"),
        (
            "arn:aws:states:us-east-1:123456789012:execution:M:e",
            "Invalid Arn: 'Resource type not valid in this context: execution'",
        ),
    ],
)
def test_describing_by_an_arn_of_another_kind_is_invalid_arn(
    client: SFNClient, arn: str, message: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.describe_state_machine(stateMachineArn=arn)
    assert error_code(excinfo) == "InvalidArn"
    assert error_message(excinfo) == message


def test_an_update_makes_a_revision_and_running_executions_keep_theirs(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine(WAITING, name="Evolving")
    running = client.start_execution(stateMachineArn=arn)["executionArn"]
    updated = client.update_state_machine(stateMachineArn=arn, definition=json.dumps(PASS))
    described = client.describe_state_machine(stateMachineArn=arn)
    assert json.loads(described["definition"]) == PASS
    assert described["revisionId"] == updated["revisionId"]
    old = client.describe_state_machine_for_execution(executionArn=running)
    assert json.loads(old["definition"]) == WAITING
    assert "revisionId" not in old
    new = client.start_execution(stateMachineArn=arn)["executionArn"]
    ran = client.describe_state_machine_for_execution(executionArn=new)
    assert json.loads(ran["definition"]) == PASS
    assert ran["revisionId"] == updated["revisionId"]


def test_an_update_that_changes_nothing_is_missing_required_parameter(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine()
    with pytest.raises(ClientError) as excinfo:
        client.update_state_machine(stateMachineArn=arn)
    assert error_code(excinfo) == "MissingRequiredParameter"


def test_an_update_to_an_invalid_definition_is_refused_and_changes_nothing(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine()
    with pytest.raises(ClientError) as excinfo:
        client.update_state_machine(stateMachineArn=arn, definition=json.dumps(BROKEN))
    assert error_code(excinfo) == "InvalidDefinition"
    assert json.loads(client.describe_state_machine(stateMachineArn=arn)["definition"]) == PASS


def test_updating_an_unknown_machine_is_state_machine_does_not_exist(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.update_state_machine(
            stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:Nobody",
            roleArn=ROLE,
        )
    assert error_code(excinfo) == "StateMachineDoesNotExist"


def test_machines_are_listed_by_name_a_page_at_a_time(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    for name in ("Charlie", "Alpha", "Bravo"):
        machine(PASS, name=name)
    first = client.list_state_machines(maxResults=2)
    assert [item["name"] for item in first["stateMachines"]] == ["Alpha", "Bravo"]
    second = client.list_state_machines(maxResults=2, nextToken=first["nextToken"])
    assert [item["name"] for item in second["stateMachines"]] == ["Charlie"]
    assert "nextToken" not in second
    assert second["stateMachines"][0]["type"] == "STANDARD"


def test_a_token_the_list_did_not_give_out_is_invalid_token(client: SFNClient) -> None:
    with pytest.raises(ClientError) as excinfo:
        client.list_state_machines(nextToken="made-up")
    assert error_code(excinfo) == "InvalidToken"


def test_a_deleted_machine_is_gone_and_deleting_it_again_succeeds(
    client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine()
    client.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(ClientError) as excinfo:
        client.describe_state_machine(stateMachineArn=arn)
    assert error_code(excinfo) == "StateMachineDoesNotExist"
    client.delete_state_machine(stateMachineArn=arn)  # AWS answers this without an error
    assert client.list_state_machines()["stateMachines"] == []


def test_a_machine_deleted_while_it_runs_is_deleting_until_its_executions_end(
    engine: LocalStepFunctions, client: SFNClient, machine: Callable[..., str]
) -> None:
    arn = machine(WAITING, name="Busy")
    engine.register_lambda("ask", lambda event, context: {})
    running = client.start_execution(stateMachineArn=arn)["executionArn"]
    client.delete_state_machine(stateMachineArn=arn)
    assert client.describe_state_machine(stateMachineArn=arn)["status"] == "DELETING"
    assert client.list_state_machines()["stateMachines"] == []
    with pytest.raises(ClientError) as excinfo:
        client.start_execution(stateMachineArn=arn)
    assert error_code(excinfo) == "StateMachineDeleting"
    client.stop_execution(executionArn=running)
    with pytest.raises(ClientError) as excinfo:
        client.describe_state_machine(stateMachineArn=arn)
    assert error_code(excinfo) == "StateMachineDoesNotExist"


def test_validate_definition_says_ok_for_a_valid_one(client: SFNClient) -> None:
    answer = client.validate_state_machine_definition(definition=json.dumps(PASS))
    assert answer["result"] == "OK"
    assert answer["diagnostics"] == []


def test_validate_definition_lists_each_problem_as_a_diagnostic(client: SFNClient) -> None:
    answer = client.validate_state_machine_definition(definition=json.dumps(BROKEN))
    assert answer["result"] == "FAIL"
    assert {
        "severity": "ERROR",
        "code": "MISSING_TRANSITION_TARGET",
        "message": "Next names 'Nowhere', which is not a state of the state machine",
        "location": "/States/A/Next",
    } in answer["diagnostics"]
    assert answer["truncated"] is False


def test_validate_definition_cuts_the_diagnostics_at_max_results(client: SFNClient) -> None:
    answer = client.validate_state_machine_definition(definition=json.dumps(BROKEN), maxResults=1)
    assert len(answer["diagnostics"]) == 1
    assert answer["truncated"] is True


def test_validate_definition_applies_the_express_rules_for_an_express_type(
    client: SFNClient,
) -> None:
    standard = client.validate_state_machine_definition(definition=json.dumps(WAITING))
    express = client.validate_state_machine_definition(
        definition=json.dumps(WAITING), type="EXPRESS"
    )
    assert standard["result"] == "OK"
    assert express["result"] == "FAIL"
    assert express["diagnostics"][0]["location"] == "/States/Ask/Resource"
