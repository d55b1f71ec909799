"""Sagas run on Step Functions Local, with their handlers served by the local Lambda endpoint.

The same executions the embedded engine runs, on AWS's own emulator: `StepFunctionsLocalBackend`
starts a `LambdaEndpoint` for the handlers and the container pointed at it, creates state
machines through boto3, and runs executions to their end by polling, which is how the
`stepfunctions_local` fixture of the pytest plugin and `tests/stepfunctions_local` use it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepsaga.infra.local.stepfunctions_local._container import (
    StepFunctionsLocal,
    container_config,
)
from stepsaga.infra.local.stepfunctions_local._lambda_endpoint import Handler, LambdaEndpoint

__all__ = (
    "FUNCTION_ARN_PREFIX",
    "ExecutionResult",
    "ExecutionRunner",
    "StepFunctionsLocalBackend",
)

_REGION = "us-east-1"
_ACCOUNT = "123456789012"
FUNCTION_ARN_PREFIX = f"arn:aws:lambda:{_REGION}:{_ACCOUNT}:function:"
"""Compile sagas with `FunctionNames.local(prefix=FUNCTION_ARN_PREFIX)` for this backend: Step
Functions Local wants function ARNs, which the endpoint maps back to handler names."""

_ROLE = f"arn:aws:iam::{_ACCOUNT}:role/stepsaga-local"
_FINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """A finished execution, with the fields tests read from the embedded engine's `Execution`.

    Attributes:
        arn: The execution ARN.
        status: `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`.
        output: The output, parsed (None unless SUCCEEDED).
        error: The error name, when it did not succeed.
        cause: The cause text, when there is one.
        history: `GetExecutionHistory`'s events, as boto3 returns them.
    """

    arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    history: list[dict[str, Any]]


class StepFunctionsLocalBackend:
    """Step Functions Local in a container, calling `handlers` on a local Lambda endpoint.

    Args:
        handlers: Function name to Lambda handler (a `TaskRuntime`'s `handlers(...)`).
        mock_config: A MockConfigFile for `arn#TestCase` executions, or None.
        wait_time_scale: `WAIT_TIME_SCALE` (Step Functions Local waits in real time).
    """

    def __init__(
        self,
        handlers: Mapping[str, Handler],
        *,
        mock_config: Path | None = None,
        wait_time_scale: float | None = None,
    ) -> None:
        self.endpoint = LambdaEndpoint(handlers, region=_REGION, account_id=_ACCOUNT)
        self.container = StepFunctionsLocal(
            container_config(
                lambda_endpoint=self.endpoint.url,
                mock_config=mock_config,
                region=_REGION,
                account_id=_ACCOUNT,
                wait_time_scale=wait_time_scale,
            )
        )
        self.client: Any = None
        self._runner: ExecutionRunner | None = None

    def start(self) -> StepFunctionsLocalBackend:
        """Start the endpoint, then the container.

        Raises:
            DockerUnavailable: No Docker engine answers (the endpoint is stopped again).
        """
        import boto3

        self.endpoint.start()
        try:
            self.container.start()
        except BaseException:
            self.endpoint.stop()
            raise
        # Step Functions Local checks no credentials; these keep real ones out of the calls.
        self.client = boto3.client(
            "stepfunctions",
            endpoint_url=self.container.endpoint_url,
            region_name=_REGION,
            aws_access_key_id="stepsaga-local",
            aws_secret_access_key="stepsaga-local",
        )
        self._runner = ExecutionRunner(self.client)
        return self

    def stop(self) -> None:
        """Stop the container and the endpoint."""
        self.container.stop()
        self.endpoint.stop()

    def __enter__(self) -> StepFunctionsLocalBackend:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def runner(self) -> ExecutionRunner:
        """Creates machines and runs executions on the container (once started)."""
        if self._runner is None:
            raise RuntimeError("the backend is not started")
        return self._runner

    def state_machine(self, name: str, definition: Mapping[str, Any] | str) -> str:
        """`ExecutionRunner.state_machine` on the container."""
        return self.runner.state_machine(name, definition)

    def run(
        self,
        name: str,
        definition: Mapping[str, Any] | str,
        input: Any = None,
        *,
        test_case: str | None = None,
        timeout_seconds: float = 120.0,
    ) -> ExecutionResult:
        """`ExecutionRunner.run` on the container."""
        return self.runner.run(
            name, definition, input, test_case=test_case, timeout_seconds=timeout_seconds
        )


class ExecutionRunner:
    """Creates state machines and runs executions to their end through a boto3 client.

    Any `stepfunctions` client will do: Step Functions Local's, the embedded engine's
    in-process one (`LocalStepFunctions.client()`), or AWS's.

    Args:
        client: The boto3 client.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self._machines: dict[str, str] = {}

    def state_machine(self, name: str, definition: Mapping[str, Any] | str) -> str:
        """Create (once per name) the state machine; returns its ARN."""
        if name not in self._machines:
            text = definition if isinstance(definition, str) else json.dumps(definition)
            created = self.client.create_state_machine(name=name, definition=text, roleArn=_ROLE)
            self._machines[name] = created["stateMachineArn"]
        return self._machines[name]

    def run(
        self,
        name: str,
        definition: Mapping[str, Any] | str,
        input: Any = None,
        *,
        test_case: str | None = None,
        timeout_seconds: float = 120.0,
        poll_seconds: float = 0.1,
    ) -> ExecutionResult:
        """Run one execution of the machine `name` to its end.

        Args:
            name: The state machine's name (created from `definition` on first use).
            definition: Its ASL.
            input: The execution input (a JSON value).
            test_case: A MockConfigFile test case (`<arn>#<test case>`).
            timeout_seconds: How long to wait (real time) before giving up.
            poll_seconds: How often to ask.

        Raises:
            TimeoutError: The execution is still running after `timeout_seconds`.
        """
        arn = self.state_machine(name, definition)
        started = self.client.start_execution(
            stateMachineArn=f"{arn}#{test_case}" if test_case else arn,
            name=str(uuid.uuid4()),
            input=json.dumps({} if input is None else input),
        )
        execution_arn = started["executionArn"]
        deadline = time.monotonic() + timeout_seconds
        while True:
            described = self.client.describe_execution(executionArn=execution_arn)
            if described["status"] in _FINAL:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still {described['status']}")
            time.sleep(poll_seconds)
        history: list[dict[str, Any]] = []
        for page in self.client.get_paginator("get_execution_history").paginate(
            executionArn=execution_arn
        ):
            history += page["events"]
        output = described.get("output")
        return ExecutionResult(
            arn=execution_arn,
            status=described["status"],
            output=json.loads(output) if output else None,
            error=described.get("error"),
            cause=described.get("cause"),
            history=history,
        )
