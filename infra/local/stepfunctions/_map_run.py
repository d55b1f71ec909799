"""A distributed Map's run: its items, its child executions, its tolerance, its results.

A Map with ``ProcessorConfig.Mode: DISTRIBUTED`` starts a *map run* (``MapRunStarted``): it
reads its items (from the state input, or an ItemReader), groups them (ItemBatcher), then
runs one child execution per item or batch, ``MaxConcurrency`` at a time (0: all at once),
each with a history of its own (``ExecutionStarted`` ... ``ExecutionSucceeded``), STANDARD or
EXPRESS (five minutes at most). The parent records only the run's start and end.

A failed (or timed-out) child counts against ``ToleratedFailureCount`` /
``ToleratedFailurePercentage`` (none given: no failure is tolerated); once the failures pass
the threshold, the children still running are aborted, those not started never start, and
the map run fails with ``States.ExceedToleratedFailureThreshold``. A failed child's result
is its ``{"Error", "Cause"}``.

:class:`MapRun` is DescribeMapRun's view of a run, with its children; ``update_map_run``
changes its MaxConcurrency and tolerance while it runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stepsaga.infra.local.stepfunctions._dataflow import JSONATA, QueryLanguage, count_field
from stepsaga.infra.local.stepfunctions._errors import StatesError
from stepsaga.infra.local.stepfunctions._execution import Execution, Run
from stepsaga.infra.local.stepfunctions._history import History
from stepsaga.infra.local.stepfunctions._map_items import (
    BatcherPlan,
    ReaderPlan,
    WriterPlan,
    batches,
    read_items,
    transformed,
    write_results,
)
from stepsaga.infra.local.stepfunctions._nested import describe
from stepsaga.infra.local.stepfunctions._scheduler import StrandBody
from stepsaga.workflows import facts

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._map_parallel import MapStep
    from stepsaga.infra.local.stepfunctions._plan import MachinePlan
    from stepsaga.infra.local.stepfunctions._scheduler import Scheduler, Strand

# Map runs an engine keeps for DescribeMapRun (with their children), newest last.
_KEPT = 256


class MapRunPlan:
    """A distributed Map's parts beyond its item processor.

    Attributes:
        reader: its ItemReader, or None (the items are in the state input).
        batcher: its ItemBatcher, or None.
        writer: its ResultWriter, or None.
        express: whether its children are EXPRESS executions.
        processor: the item processor as a machine plan of its own (built on first use).
    """

    __slots__ = ("batcher", "express", "processor", "reader", "writer")

    def __init__(self) -> None:
        self.reader: ReaderPlan | None = None
        self.batcher: BatcherPlan | None = None
        self.writer: WriterPlan | None = None
        self.express = False
        self.processor: MachinePlan | None = None


class MapRun:
    """A map run, as DescribeMapRun shows it.

    Attributes:
        arn: the map run's ARN.
        execution_arn: the execution whose Map state started it.
        state_machine_arn: the ARN its children run under (the machine's, ``/`` label).
        status: ``RUNNING``, ``SUCCEEDED``, ``FAILED`` or ``ABORTED``.
        start_date: when it started.
        stop_date: when it ended (None while running).
        max_concurrency: how many children run at once (0: no limit).
        tolerated_failure_count: the failures it tolerates, in number.
        tolerated_failure_percentage: the failures it tolerates, in percent of the children.
        children: its child executions, in item order (those started so far).
        total: how many children it runs (items, or batches).
        results_written: how many children's results its ResultWriter wrote to S3.

    :meth:`describe` and :meth:`listed` are DescribeMapRun's response and a ListMapRuns entry;
    ``LocalStepFunctions.update_map_run`` is UpdateMapRun.
    """

    def __init__(
        self,
        arn: str,
        execution_arn: str,
        state_machine_arn: str,
        start_date: datetime,
        max_concurrency: int,
        tolerated_count: int | None,
        tolerated_percentage: float | None,
    ) -> None:
        self.arn = arn
        self.execution_arn = execution_arn
        self.state_machine_arn = state_machine_arn
        self.status = "RUNNING"
        self.start_date = start_date
        self.stop_date: datetime | None = None
        self.max_concurrency = max_concurrency
        self.tolerated_failure_count = tolerated_count
        self.tolerated_failure_percentage = tolerated_percentage
        self.children: list[Execution] = []
        self.total = 0
        self.results_written = 0
        self._children: _Children | None = None

    def counts(self) -> dict[str, int]:
        """``itemCounts`` / ``executionCounts`` as DescribeMapRun gives them."""
        by_status = {"RUNNING": 0, "SUCCEEDED": 0, "FAILED": 0, "TIMED_OUT": 0, "ABORTED": 0}
        for child in self.children:
            by_status[child.status] = by_status.get(child.status, 0) + 1
        return {
            "pending": self.total - len(self.children),
            "running": by_status["RUNNING"],
            "succeeded": by_status["SUCCEEDED"],
            "failed": by_status["FAILED"],
            "timedOut": by_status["TIMED_OUT"],
            "aborted": by_status["ABORTED"],
            "total": self.total,
            "resultsWritten": self.results_written,
            "failuresNotRedrivable": 0,
            "pendingRedrive": 0,
        }

    def describe(self) -> dict[str, Any]:
        """DescribeMapRun's response (boto3's casing)."""
        counts = self.counts()
        described: dict[str, Any] = {
            "mapRunArn": self.arn,
            "executionArn": self.execution_arn,
            "status": self.status,
            "startDate": self.start_date,
            "maxConcurrency": self.max_concurrency,
            "toleratedFailurePercentage": float(self.tolerated_failure_percentage or 0),
            "toleratedFailureCount": self.tolerated_failure_count or 0,
            "itemCounts": counts,
            "executionCounts": counts,
            "redriveCount": 0,
        }
        if self.stop_date is not None:
            described["stopDate"] = self.stop_date
        return described

    def listed(self) -> dict[str, Any]:
        """The run as ListMapRuns lists it (boto3's casing)."""
        entry: dict[str, Any] = {
            "executionArn": self.execution_arn,
            "mapRunArn": self.arn,
            "stateMachineArn": self.state_machine_arn,
            "startDate": self.start_date,
        }
        if self.stop_date is not None:
            entry["stopDate"] = self.stop_date
        return entry

    def update(
        self,
        scheduler: Scheduler,
        *,
        max_concurrency: int | None,
        tolerated_failure_count: int | None,
        tolerated_failure_percentage: float | None,
    ) -> None:
        """UpdateMapRun: new limits apply to the children still to start (and to come)."""
        if max_concurrency is not None:
            self.max_concurrency = max_concurrency
        if tolerated_failure_count is not None:
            self.tolerated_failure_count = tolerated_failure_count
        if tolerated_failure_percentage is not None:
            self.tolerated_failure_percentage = tolerated_failure_percentage
        children = self._children
        if children is not None and self.status == "RUNNING":
            children.changed(scheduler)


def map_runs(run: Run) -> dict[str, MapRun]:
    """The engine's map runs by ARN (kept on its core)."""
    found: dict[str, MapRun] = run.core.map_runs
    return found


def run_map(
    step: MapStep,
    run: Run,
    strand: Strand,
    data: Any,
    effective: Any,
    items: list[Any] | None,
    concurrency: int,
    tolerated_count: int | None,
    tolerated_percentage: float | None,
) -> StrandBody:
    """The map run of a distributed Map: its result (the children's outputs, or the writer's)."""
    plan = step.run_plan
    assert plan is not None, "a distributed Map has its map run's plan"
    history, language, scope = strand.history, step.language, strand
    label = step.label or step.name
    run_id = str(uuid.UUID(int=run.rng.getrandbits(128), version=4))
    prefix = f"arn:aws:states:{run.region}:{run.account_id}"
    machine = f"{run.state_machine_name}/{label}"
    record = MapRun(
        f"{prefix}:mapRun:{machine}:{run_id}",
        run.execution_arn,
        f"{prefix}:stateMachine:{machine}",
        run.clock.now(),
        concurrency,
        tolerated_count,
        tolerated_percentage,
    )
    runs = map_runs(run)
    runs[record.arn] = record
    while len(runs) > _KEPT:
        runs.pop(next(iter(runs)))
    run_started = history.add(
        run.clock.now(),
        "MapRunStarted",
        strand.cursor,
        "mapRunStartedEventDetails",
        {"mapRunArn": record.arn},
    )
    strand.cursor = run_started
    services = run.core.integrations.services
    try:
        if plan.reader is not None:
            items = _read(plan.reader, language, data, effective, scope, run)
        assert items is not None
        inputs = [
            language.map_item(step, effective, index, item, strand)
            for index, item in enumerate(items)
        ]
        if plan.batcher is not None:
            inputs = _batched(plan.batcher, language, data, effective, scope, inputs)
        record.total = len(inputs)
        children = _Children(record, run, step, plan, inputs, machine, prefix)
        record._children = children
        failure = yield children
        result: Any = children.results
        writer = plan.writer
        if writer is not None:
            records = [
                describe(child, parsed_output=False, millis=False) for child in record.children
            ]
            transformation = writer.transformation or ("NONE" if writer.resource else "COMPACT")
            if writer.resource is None:
                result = transformed(records, transformation)
            else:
                # Written whether the run succeeded or not: what failed, and what never ran,
                # is what the FAILED and PENDING files are for.
                by_status = _by_status(records, children, transformation)
                parameters = _template(writer.parameters, language, data, effective, scope)
                result = write_results(
                    services, run.region, parameters, record.arn, by_status, writer.output_type
                )
                record.results_written = len(records)
        if isinstance(failure, StatesError):
            raise failure
    except StatesError as failure:
        record.status = "FAILED"
        record.stop_date = run.clock.now()
        details: dict[str, Any] = {}
        if failure.error is not None:
            details["error"] = failure.error
        if failure.cause is not None:
            details["cause"] = failure.cause
        strand.cursor = history.add(
            run.clock.now(), "MapRunFailed", run_started, "mapRunFailedEventDetails", details
        )
        raise
    record.status = "SUCCEEDED"
    record.stop_date = run.clock.now()
    run_succeeded = history.add(run.clock.now(), "MapRunSucceeded", run_started)
    history.add(run.clock.now(), "MapStateSucceeded", run_succeeded)
    strand.cursor = run_succeeded
    return result


def _template(template: Any, language: QueryLanguage, data: Any, effective: Any, scope: Any) -> Any:
    if template is None:
        return {}
    if language is JSONATA:
        return template.evaluate(JSONATA.states(data, scope), scope)  # type: ignore[attr-defined]
    return template.evaluate(effective, scope)


def _read(
    reader: ReaderPlan,
    language: QueryLanguage,
    data: Any,
    effective: Any,
    scope: Any,
    run: Run,
) -> list[Any]:
    parameters = _template(reader.parameters, language, data, effective, scope)
    value = reader.max_items
    if reader.max_items_field is not None:
        read = language.value(reader.max_items_field, effective, scope)
        try:
            value = count_field(read, reader.max_items_field, "MaxItemsPath")
        except Exception:
            raise StatesError(
                facts.STATES_ITEM_READER_FAILED, "field MaxItems must be a valid integer"
            ) from None
    return read_items(reader, parameters, value or 0, run.core.integrations.services, run.region)


def _batched(
    batcher: BatcherPlan,
    language: QueryLanguage,
    data: Any,
    effective: Any,
    scope: Any,
    inputs: list[Any],
) -> list[Any]:
    max_items = batcher.max_items
    if batcher.max_items_field is not None:
        read = language.value(batcher.max_items_field, effective, scope)
        max_items = count_field(read, batcher.max_items_field, "MaxItemsPerBatchPath")
    max_bytes = batcher.max_bytes
    if batcher.max_bytes_field is not None:
        read = language.value(batcher.max_bytes_field, effective, scope)
        max_bytes = count_field(read, batcher.max_bytes_field, "MaxInputBytesPerBatchPath")
    if max_bytes is not None:
        max_bytes = min(max_bytes, facts.MAX_PAYLOAD_BYTES)
    batch_input = None
    if batcher.batch_input is not None:
        batch_input = _template(batcher.batch_input, language, data, effective, scope)
    return list(batches(inputs, max_items or None, max_bytes, batch_input))


def _by_status(
    records: list[dict[str, Any]], children: _Children, transformation: str
) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {"SUCCEEDED": [], "FAILED": [], "PENDING": []}
    for entry in records:
        status = entry["Status"]
        key = "SUCCEEDED" if status == "SUCCEEDED" else "FAILED"
        grouped[key].append(entry)
    if transformation != "NONE":
        grouped["SUCCEEDED"] = transformed(grouped["SUCCEEDED"], transformation)
    grouped["PENDING"] = [
        {"Input": value, "Status": "PENDING"} for value in children.pending_inputs()
    ]
    return grouped


class _Children:
    """The children of a map run, started ``MaxConcurrency`` at a time (a scheduler ``Wait``).

    The parent parks on it; it is sent None once every child has closed, or the failure
    that ended the run (the threshold exceeded).
    """

    def __init__(
        self,
        record: MapRun,
        run: Run,
        step: MapStep,
        plan: MapRunPlan,
        inputs: list[Any],
        machine: str,
        prefix: str,
    ) -> None:
        self.record = record
        self.run = run
        self.step = step
        self.plan = plan
        self.inputs = inputs
        self.machine = machine
        self.prefix = prefix
        self.results: list[Any] = [None] * len(inputs)
        self.running: dict[int, Run] = {}
        self.next = 0
        self.closed = 0
        self.failures = 0
        self.failure: StatesError | None = None
        self.done = False
        self._pumping = False
        self._scheduler: Scheduler | None = None
        self._strand: Strand | None = None
        self._counted = False

    # -- the scheduler's side -----------------------------------------------------------

    def park(self, scheduler: Scheduler, strand: Strand) -> bool:
        """Start the children; the parent waits until they end."""
        self._scheduler, self._strand = scheduler, strand
        self._pump(scheduler)
        if self.done:
            return True
        self.run.external_waits += 1  # what the children wait on, the parent waits on
        self._counted = True
        return True

    def cancel(self, scheduler: Scheduler, *, aborted: bool) -> None:
        """The parent is stopped: so are the children still running."""
        if self.done:
            return
        self._strand = None  # stopped: nothing to wake
        self._end(None)
        self.record.status = "ABORTED"
        self.record.stop_date = self.run.clock.now()
        self._abort_running()

    def describe(self) -> Iterator[str]:
        """What the running children wait for."""
        yield f"map run {self.record.arn} waits for {len(self.running)} child executions"
        for child in self.running.values():
            top = child.top
            if top is not None and top.wait is not None:
                yield from top.wait.describe()

    def changed(self, scheduler: Scheduler) -> None:
        """The run's limits changed (UpdateMapRun): start more, or fail, as they now say."""
        if self.done:
            return
        if self.failures and self._exceeded():
            self._fail()
            return
        self._pump(scheduler)

    # -- children -----------------------------------------------------------------------

    def _limit(self) -> int:
        limit = self.record.max_concurrency
        return limit if limit > 0 else len(self.inputs)

    def _pump(self, scheduler: Scheduler) -> None:
        if self._pumping or self.done:
            return
        self._pumping = True
        outer = scheduler.jump
        # Children run their first states at once, but the clock may not jump meanwhile:
        # siblings start together, at this instant.
        scheduler.jump = "none"
        try:
            while (
                not self.done and self.next < len(self.inputs) and len(self.running) < self._limit()
            ):
                index = self.next
                self.next += 1
                self._start(index)
            if not self.done and self.closed == len(self.inputs):
                self._end(None)
        finally:
            scheduler.jump = outer
            self._pumping = False

    def _start(self, index: int) -> None:
        run = self.run
        plan = self.plan.processor
        if plan is None:
            plan = self.plan.processor = _processor_plan(run, self.step)
        name = str(uuid.UUID(int=run.rng.getrandbits(128), version=4))
        execution = Execution(
            f"{self.prefix}:execution:{self.machine}:{name}",
            name,
            self.record.state_machine_arn,
            run.plan.machine,
            self.inputs[index],
            run.clock.now(),
            History(),
            run.execution._lock,
        )
        child = Run(run.core, plan, execution, self.machine, run.mock)
        child.listed = False
        child.express = self.plan.express
        # The children's transitions are the parent's (coverage and path assertions read the
        # Map's body there, as for an inline Map).
        child.transitions = run.transitions
        self.record.children.append(execution)
        self.running[index] = child
        child.on_close(lambda closed: self._closed(index, closed))
        child.start()

    def _closed(self, index: int, child: Run) -> None:
        self.running.pop(index, None)
        self.closed += 1
        execution = child.execution
        if self.done:
            return
        if execution.status == "SUCCEEDED":
            self.results[index] = execution.output
        else:
            # A timed-out child names no error (DescribeExecution): its event's is States.Timeout.
            error = execution.error
            if error is None and execution.status == "TIMED_OUT":
                error = facts.STATES_TIMEOUT
            output: dict[str, Any] = {"Error": error}
            if execution.cause is not None:
                output["Cause"] = execution.cause
            self.results[index] = output
            if execution.status != "ABORTED":
                self.failures += 1
                if self._exceeded():
                    self._fail()
                    return
        scheduler = self._scheduler
        if scheduler is not None and not self._pumping:
            self._pump(scheduler)

    def _exceeded(self) -> bool:
        total = len(self.inputs)
        count = self.record.tolerated_failure_count
        percentage = self.record.tolerated_failure_percentage
        if count is None and percentage is None:
            return self.failures > 0
        within_count = count is not None and self.failures <= count
        within_percentage = (
            percentage is not None and total > 0 and self.failures * 100 / total <= percentage
        )
        return not (within_count or within_percentage)

    def _fail(self) -> None:
        self._end(
            StatesError(
                facts.STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD,
                "The specified tolerated failure threshold was exceeded",
            )
        )
        self._abort_running()

    def _abort_running(self) -> None:
        running, self.running = self.running, {}
        for child in running.values():
            child.abort(None, None)

    def _end(self, failure: StatesError | None) -> None:
        self.done = True
        self.failure = failure
        if self._counted:
            self.run.external_waits -= 1
            self._counted = False
        strand, self._strand = self._strand, None
        if strand is not None and self._scheduler is not None:
            self._scheduler.wake(strand, failure)

    def pending_inputs(self) -> list[Any]:
        """The inputs of the children that never started."""
        return self.inputs[self.next :]


def _processor_plan(run: Run, step: MapStep) -> MachinePlan:
    from stepsaga.infra.local.stepfunctions._plan import MachinePlan

    assert step.processor is not None
    plan = MachinePlan(run.plan.machine, step.processor)
    plan.timeout_seconds = None  # the parent's TimeoutSeconds is the parent's
    return plan
