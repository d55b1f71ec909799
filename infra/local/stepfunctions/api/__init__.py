"""The Step Functions API on the embedded engine: one dispatcher, reached in-process or over HTTP.

:class:`StepFunctionsApi` answers AWS JSON 1.0 requests (``X-Amz-Target:
AWSStepFunctions.<Operation>``) over one :class:`~stepsaga.infra.local.stepfunctions.
LocalStepFunctions` engine, with AWS's answers and AWS's errors, every request checked against
botocore's service model first. Two ways reach it:

- in-process: ``engine.client()`` (:func:`in_process_client`) is a real boto3
  ``stepfunctions`` client whose requests never leave the process, for backend code under test;
- over HTTP: :class:`StepFunctionsServer`, what ``stepsaga local`` runs, a drop-in for the
  ``amazon/aws-stepfunctions-local`` container (port 8083, ``stateMachineArn#TestCase`` for a
  MockConfigFile test case) that boto3 and the AWS CLI reach with ``--endpoint-url``.

Operations: CreateStateMachine, UpdateStateMachine, DescribeStateMachine, ListStateMachines,
DeleteStateMachine, ValidateStateMachineDefinition; StartExecution, StartSyncExecution,
DescribeExecution, ListExecutions, StopExecution, DescribeStateMachineForExecution,
GetExecutionHistory; SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat; CreateActivity,
DescribeActivity, DeleteActivity, ListActivities, GetActivityTask; TagResource, UntagResource,
ListTagsForResource; TestState. Others of the model answer ``UnknownOperationException``
saying stepsaga does not implement them yet. Not kept: state machine versions and aliases,
redrives, Map Runs.
"""

from stepsaga.infra.local.stepfunctions.api._client import IN_PROCESS_ENDPOINT, in_process_client
from stepsaga.infra.local.stepfunctions.api._dispatcher import ApiResponse, StepFunctionsApi
from stepsaga.infra.local.stepfunctions.api._http import StepFunctionsServer
from stepsaga.infra.local.stepfunctions.api._model import check_request, check_response

__all__ = (
    "IN_PROCESS_ENDPOINT",
    "ApiResponse",
    "StepFunctionsApi",
    "StepFunctionsServer",
    "check_request",
    "check_response",
    "in_process_client",
)
