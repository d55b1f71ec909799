"""Parallel and Map: states that run child strands, concurrently on the engine's clock.

Each Parallel branch and each Map iteration is a strand of its own (``_scheduler``): a branch
that waits lets its siblings run, so a branch that polls (a Wait and a Choice loop) for work
another branch does sees it done. Without waits, branches and iterations run one after the
other, in order, as they always have. ``MaxConcurrency`` bounds how many iterations run at
once. When one fails, the others still running are stopped (``<Type>StateAborted``,
``MapIterationAborted``) and the state fails with its error.

A distributed Map's iterations are child executions of a map run (``_map_run``): each
keeps its own history, and the parent records only ``MapRunStarted`` and how the run ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stepsaga.infra.local.stepfunctions._dataflow import (
    QueryLanguage,
    count_field,
    percentage_field,
)
from stepsaga.infra.local.stepfunctions._errors import StatesError
from stepsaga.infra.local.stepfunctions._history import History
from stepsaga.infra.local.stepfunctions._map_run import MapRunPlan, run_map
from stepsaga.infra.local.stepfunctions._scheduler import Strand, StrandBody, start_children
from stepsaga.infra.local.stepfunctions._steps import StateStep
from stepsaga.workflows import facts
from stepsaga.workflows._expressions import EvaluationError

if TYPE_CHECKING:
    from stepsaga.infra.local.stepfunctions._execution import Run
    from stepsaga.infra.local.stepfunctions._plan import StepGraph


class ParallelStep(StateStep):
    """A Parallel state."""

    __slots__ = ("branches",)

    waits = True
    abort_event = "ParallelStateAborted"

    def __init__(self, name: str, kind: str, pointer: str, scope: str, language: QueryLanguage):
        super().__init__(name, kind, pointer, scope, language)
        self.branches: tuple[StepGraph, ...] = ()

    def attempt(self, run: Run, data: Any, strand: Strand, retry_count: int) -> StrandBody:
        """Run every branch on the same input; the output lists their outputs in order."""
        language, scope, history = self.language, strand, strand.history
        effective = language.arguments(self, data, scope)
        started = history.add(run.clock.now(), "ParallelStateStarted", strand.cursor)
        strand.cursor = started
        branches, variables = self.branches, strand.variables

        def branch(index: int) -> tuple[Strand, StrandBody | None, Any]:
            child = Strand(run, history, started, dict(variables))
            data, blocked = run.run_until_blocked(branches[index].start, effective, child)
            if blocked is None:
                return child, None, data
            return child, run.go_on(blocked, child), None

        outputs: list[Any] = [None] * len(branches)
        try:
            join = start_children(len(branches), branch, outputs)
            if join is not None:
                outputs = yield join
        except StatesError:
            strand.cursor = history.last_id
            raise
        last = history.last_id
        history.add(run.clock.now(), "ParallelStateSucceeded", last)
        strand.cursor = last
        output, assigned = language.output(self, data, outputs, scope)
        return output, self.next, assigned


class _Progress:
    """What a Map's iterations leave for the Map: the id of the last MapIterationSucceeded."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = 0


class MapStep(StateStep):
    """A Map state (inline or distributed)."""

    __slots__ = (
        "distributed",
        "item_selector",
        "items_path",
        "label",
        "max_concurrency",
        "max_concurrency_path",
        "processor",
        "run_plan",
        "tolerated_count",
        "tolerated_count_path",
        "tolerated_percentage",
        "tolerated_percentage_path",
    )

    waits = True
    abort_event = "MapStateAborted"

    def __init__(self, name: str, kind: str, pointer: str, scope: str, language: QueryLanguage):
        super().__init__(name, kind, pointer, scope, language)
        self.processor: StepGraph | None = None
        self.distributed = False
        self.run_plan: MapRunPlan | None = None
        self.label: str | None = None
        self.items_path: Any = None
        self.item_selector: Any = None
        self.max_concurrency = 0
        self.max_concurrency_path: Any = None
        self.tolerated_count: int | None = None
        self.tolerated_count_path: Any = None
        self.tolerated_percentage: float | None = None
        self.tolerated_percentage_path: Any = None

    def attempt(self, run: Run, data: Any, strand: Strand, retry_count: int) -> StrandBody:
        """Run the item processor on every item; the output lists the results in order."""
        language, scope, history = self.language, strand, strand.history
        items: list[Any] | None
        if self.run_plan is not None and self.run_plan.reader is not None:
            # Its items come from the reader, once the map run has started.
            effective, items = language.input(self, data, scope), None
        else:
            effective, items = language.map_items(self, data, scope)
        concurrency = self.max_concurrency
        if self.max_concurrency_path is not None:
            concurrency = count_field(
                language.value(self.max_concurrency_path, effective, scope),
                self.max_concurrency_path,
                "MaxConcurrencyPath",
            )
        started = history.add(
            run.clock.now(),
            "MapStateStarted",
            strand.cursor,
            "mapStateStartedEventDetails",
            {"length": 0 if items is None else len(items)},
        )
        strand.cursor = started
        tolerated_count = self.tolerated_count
        if self.tolerated_count_path is not None:
            tolerated_count = count_field(
                language.value(self.tolerated_count_path, effective, scope),
                self.tolerated_count_path,
                "ToleratedFailureCountPath",
            )
        if tolerated_count is not None and tolerated_count < 0:
            raise EvaluationError(facts.STATES_RUNTIME, "ToleratedFailureCount cannot be negative.")
        tolerated_percentage = self.tolerated_percentage
        if self.tolerated_percentage_path is not None:
            tolerated_percentage = percentage_field(
                language.value(self.tolerated_percentage_path, effective, scope),
                self.tolerated_percentage_path,
            )
        if self.distributed:
            results = yield from run_map(
                self,
                run,
                strand,
                data,
                effective,
                items,
                concurrency,
                tolerated_count,
                tolerated_percentage,
            )
        else:
            assert items is not None
            results = yield from self._inline(run, strand, effective, items, concurrency, started)
        output, assigned = language.output(self, data, results, scope)
        return output, self.next, assigned

    # -- inline -------------------------------------------------------------------------------

    def _inline(
        self,
        run: Run,
        strand: Strand,
        effective: Any,
        items: list[Any],
        concurrency: int,
        started: int,
    ) -> StrandBody:
        history, progress = strand.history, _Progress()
        variables = strand.variables

        def iteration(index: int) -> tuple[Strand, StrandBody | None, Any]:
            child = Strand(run, history, 0, dict(variables))
            return self._iteration(run, strand, child, index, items[index], effective, progress)

        def aborted(child: Strand) -> None:
            child.cursor = history.note(
                run.clock.now(),
                "MapIterationAborted",
                child.cursor,
                "mapIterationAbortedEventDetails",
                {"index": child.index, "name": self.name},
            )

        results: list[Any] = [None] * len(items)
        join = start_children(len(items), iteration, results, limit=concurrency, on_abort=aborted)
        if join is not None:
            results = yield join
        closing = progress.last or started
        history.add(run.clock.now(), "MapStateSucceeded", closing)
        strand.cursor = closing
        return results

    def _iteration(
        self,
        run: Run,
        parent: Strand,
        child: Strand,
        index: int,
        item: Any,
        effective: Any,
        progress: _Progress,
    ) -> tuple[Strand, StrandBody | None, Any]:
        """Start an iteration: its first states run at once; the rest, if any, as a coroutine."""
        assert self.processor is not None
        history = parent.history
        item_input = self.language.map_item(self, effective, index, item, parent)
        child.cursor = self._iteration_event(run, history, "Started", parent.cursor, index)
        try:
            data, blocked = run.run_until_blocked(self.processor.start, item_input, child)
        except StatesError:
            self._iteration_failed(run, parent, child, index)
            raise
        if blocked is None:
            self._iteration_succeeded(run, parent, child, index, progress)
            return child, None, data
        body = self._iteration_rest(run, parent, child, index, run.go_on(blocked, child), progress)
        return child, body, None

    def _iteration_rest(
        self,
        run: Run,
        parent: Strand,
        child: Strand,
        index: int,
        body: StrandBody,
        progress: _Progress,
    ) -> StrandBody:
        try:
            result = yield from body
        except StatesError:
            self._iteration_failed(run, parent, child, index)
            raise
        self._iteration_succeeded(run, parent, child, index, progress)
        return result

    def _iteration_failed(self, run: Run, parent: Strand, child: Strand, index: int) -> None:
        self._iteration_event(run, parent.history, "Failed", child.cursor, index)
        parent.cursor = child.cursor

    def _iteration_succeeded(
        self, run: Run, parent: Strand, child: Strand, index: int, progress: _Progress
    ) -> None:
        history = parent.history
        progress.last = self._iteration_event(run, history, "Succeeded", child.cursor, index)
        parent.cursor = child.cursor

    def _iteration_event(
        self, run: Run, history: History, outcome: str, previous: int, index: int
    ) -> int:
        """Record MapIterationStarted / Succeeded / Failed / Aborted; return its id."""
        return history.add(
            run.clock.now(),
            f"MapIteration{outcome}",
            previous,
            f"mapIteration{outcome}EventDetails",
            {"index": index, "name": self.name},
        )
