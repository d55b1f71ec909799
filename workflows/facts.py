"""What AWS Step Functions fixes: error names, quotas, integration resources — each written once.

The validator, the saga compiler, the embedded engine and the task runtime all read these
constants instead of writing the values again, so that a limit AWS changes is changed here only.
Each group cites the AWS page that states it.

This module imports nothing but the standard library: the task Lambdas import it, and a Lambda
package stays small.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

__all__ = (
    "ACTIVITY_TASK_POLL_SECONDS",
    "CHOICE_OPERATORS",
    "DEFAULT_PAGE_SIZE",
    "EXPRESS_BILLED_MEMORY_MB",
    "EXPRESS_BILLING_INCREMENT_MS",
    "JITTER_STRATEGIES",
    "LAMBDA_INVOKE",
    "MAX_DELAY_SECONDS",
    "MAX_INTRINSIC_ARRAY_RANGE",
    "MAX_INTRINSIC_CALLS",
    "MAX_INTRINSIC_INPUT_CHARS",
    "MAX_JSON_DEPTH",
    "MAX_JSON_NUMBER_LENGTH",
    "MAX_LABEL_LENGTH",
    "MAX_LAMBDA_FUNCTION_NAME_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_PAYLOAD_BYTES",
    "MAX_SECONDS_OR_ATTEMPTS",
    "MAX_STATE_NAME_LENGTH",
    "MAX_TAGS_PER_RESOURCE",
    "MAX_VARIABLE_NAME_LENGTH",
    "NAME_FORBIDDEN_CHARACTERS",
    "STATES_ALL",
    "STATES_DATA_LIMIT_EXCEEDED",
    "STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD",
    "STATES_HEARTBEAT_TIMEOUT",
    "STATES_NO_CHOICE_MATCHED",
    "STATES_QUERY_EVALUATION_ERROR",
    "STATES_REFERENCE_PATH_CONFLICT",
    "STATES_RUNTIME",
    "STATES_TASK_FAILED",
    "STATES_TIMEOUT",
    "STEP_FUNCTIONS_LOCAL_PORT",
    "TEST_STATE_MAX_SECONDS",
    "TEST_STATE_NAME",
    "TRANSIENT_LAMBDA_ERRORS",
    "WAIT_FOR_TASK_TOKEN",
    "JitterStrategy",
)

# --- error names ------------------------------------------------------------------------------
# https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
# (AWS reserves States.IntrinsicFailure and States.ResultPathMatchFailure too, but reports a
# failing intrinsic as States.Runtime and a ResultPath it cannot apply as
# States.ReferencePathConflict, as the recorded histories show.)

#: Matches any error name in a Retrier's or Catcher's ``ErrorEquals`` (it must stand alone).
STATES_ALL: Final = "States.ALL"
#: A Task ran longer than its ``TimeoutSeconds``, or the execution than its own.
STATES_TIMEOUT: Final = "States.Timeout"
#: A Task sent no heartbeat for longer than its ``HeartbeatSeconds``.
STATES_HEARTBEAT_TIMEOUT: Final = "States.HeartbeatTimeout"
#: Matches any error a Task raises except ``States.Timeout``.
STATES_TASK_FAILED: Final = "States.TaskFailed"
#: An input, output or result over :data:`MAX_PAYLOAD_BYTES`.
STATES_DATA_LIMIT_EXCEEDED: Final = "States.DataLimitExceeded"
#: A Choice state without ``Default`` whose rules all failed to match.
STATES_NO_CHOICE_MATCHED: Final = "States.NoChoiceMatched"
#: A Map state's failed items went past its ``ToleratedFailure*`` threshold.
STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD: Final = "States.ExceedToleratedFailureThreshold"
#: An exception the execution cannot handle: a path selecting nothing, a failing intrinsic...
STATES_RUNTIME: Final = "States.Runtime"
#: A JSONata expression failed to evaluate (JSONata query language).
STATES_QUERY_EVALUATION_ERROR: Final = "States.QueryEvaluationError"
#: A ResultPath (or Assign) cannot be applied to the input it would change.
STATES_REFERENCE_PATH_CONFLICT: Final = "States.ReferencePathConflict"

# --- quotas and ranges ------------------------------------------------------------------------
# https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html

#: Maximum input or output of a task, state or execution: 256 KiB of UTF-8 JSON.
MAX_PAYLOAD_BYTES: Final = 256 * 1024
#: Maximum length of a state machine, execution or activity name.
MAX_NAME_LENGTH: Final = 80

#: Maximum tags on one state machine or activity.
MAX_TAGS_PER_RESOURCE: Final = 50

# https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html
#: Characters a state machine, execution or activity name may not hold (control characters,
#: U+0000-001F and U+007F-009F, are refused too).
NAME_FORBIDDEN_CHARACTERS: Final = frozenset(' <>{}[]?*"#%\\^|~`$&,;:/\t\n\r')

# https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html
#: Results per page of a List operation (and GetExecutionHistory) when maxResults is 0 or absent.
DEFAULT_PAGE_SIZE: Final = 100

# https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetActivityTask.html
#: How long GetActivityTask holds a poll open while no task is scheduled.
ACTIVITY_TASK_POLL_SECONDS: Final = 60

# https://aws.amazon.com/step-functions/pricing/ (Express workflows)
#: An Express execution is billed for at least this much memory, in 64 MB chunks.
EXPRESS_BILLED_MEMORY_MB: Final = 64
#: An Express execution's duration is billed rounded up to this many milliseconds.
EXPRESS_BILLING_INCREMENT_MS: Final = 100

# https://docs.aws.amazon.com/step-functions/latest/dg/sfn-local.html
#: The port Step Functions Local (the ``amazon/aws-stepfunctions-local`` container) listens on.
STEP_FUNCTIONS_LOCAL_PORT: Final = 8083

# https://states-language.net/spec.html#states-fields
#: Maximum length of a state's name.
MAX_STATE_NAME_LENGTH: Final = 80

# https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
#: Maximum length of a workflow variable's name.
MAX_VARIABLE_NAME_LENGTH: Final = 80

# https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
#: Maximum length of a Distributed Map's ``Label``.
MAX_LABEL_LENGTH: Final = 40

# https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html#error-handling-retrying-after-an-error
#: The largest value AWS accepts in a Retrier's ``MaxAttempts`` and ``IntervalSeconds``, and in
#: the whole-second fields ``TimeoutSeconds``, ``HeartbeatSeconds`` and a Wait's ``Seconds``.
MAX_SECONDS_OR_ATTEMPTS: Final = 99_999_999
#: The largest ``MaxDelaySeconds`` of a Retrier: one leap year.
MAX_DELAY_SECONDS: Final = 31_622_400
#: A Retrier's ``JitterStrategy``.
JitterStrategy = Literal["FULL", "NONE"]
#: Every value :data:`JitterStrategy` admits.
JITTER_STRATEGIES: Final[tuple[str, ...]] = get_args(JitterStrategy)

# https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html#amazon-states-language-choice-state-rules
_COMPARISONS: Final = (
    "BooleanEquals",
    "NumericEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "StringEquals",
    "StringGreaterThan",
    "StringGreaterThanEquals",
    "StringLessThan",
    "StringLessThanEquals",
    "TimestampEquals",
    "TimestampGreaterThan",
    "TimestampGreaterThanEquals",
    "TimestampLessThan",
    "TimestampLessThanEquals",
)
#: Every JSONPath-mode Choice comparison operator (``StringEquals``, ``NumericLessThanPath``…):
#: each comparison, its ``...Path`` form (the operand is a path), ``StringMatches`` and the
#: type tests.
CHOICE_OPERATORS: Final = frozenset(
    (
        *_COMPARISONS,
        *(f"{name}Path" for name in _COMPARISONS),
        "StringMatches",
        "IsBoolean",
        "IsNull",
        "IsNumeric",
        "IsPresent",
        "IsString",
        "IsTimestamp",
    )
)

# https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html
#: The most intrinsic function calls one field may hold ("You can nest up to 10 intrinsic
#: functions within a field"; the page's example counts every call of the field).
MAX_INTRINSIC_CALLS: Final = 10
#: The most items ``States.ArrayRange`` may produce.
MAX_INTRINSIC_ARRAY_RANGE: Final = 1000
#: The longest string ``States.Base64Encode``, ``States.Base64Decode`` and ``States.Hash`` take.
MAX_INTRINSIC_INPUT_CHARS: Final = 10_000

# --- integrations -----------------------------------------------------------------------------
# https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html

#: The optimised Lambda integration's ``Resource`` (other partitions replace ``aws``).
LAMBDA_INVOKE: Final = "arn:aws:states:::lambda:invoke"
#: The suffix of a ``Resource`` that waits for ``SendTaskSuccess`` with the task token.
#: https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token
WAIT_FOR_TASK_TOKEN: Final = ".waitForTaskToken"
#: Lambda service errors worth retrying on every Lambda task.
#: https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
TRANSIENT_LAMBDA_ERRORS: Final[tuple[str, ...]] = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
#: Maximum length of a Lambda function's name (a full ARN may be longer).
#: https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html#lambda-CreateFunction-request-FunctionName
MAX_LAMBDA_FUNCTION_NAME_LENGTH: Final = 64

# --- TestState ---------------------------------------------------------------------------------
# https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html

#: How long one TestState call may run: "up to five minutes", then it fails with States.Timeout.
TEST_STATE_MAX_SECONDS: Final = 5 * 60
#: The name TestState gives a state tested on its own: its context object's ``State.Name``
#: (even for a ``stateName`` inside a whole definition) and the pointers of InvalidDefinition
#: (``/States/StateName/Branches``), as AWS's answers in tests/conformance/recordings show.
TEST_STATE_NAME: Final = "StateName"

# --- JSON ---------------------------------------------------------------------------------------
# AWS's documentation says no more of the JSON it accepts than "JSON text". These are the
# defaults of the JVM's JSON parser (Jackson's StreamReadConstraints, 2.15 and later:
# https://github.com/FasterXML/jackson-core/wiki/StreamReadConstraints), the bounds a JVM service
# that does not raise them enforces; stepsaga enforces them so that a value it accepts is one
# it can also write back (CPython refuses integers of more than 4,300 digits and runs out of
# stack on nesting a little deeper than 1,000 levels).

#: The most characters a JSON number may have.
MAX_JSON_NUMBER_LENGTH: Final = 1000
#: The deepest nesting of objects and arrays in a JSON value.
MAX_JSON_DEPTH: Final = 1000
