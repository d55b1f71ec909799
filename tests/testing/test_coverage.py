"""Step Functions coverage, without pytest around it: what a definition allows, what was taken.

Executions are fakes carrying exactly the engine's coverage interface (`definition`,
`transitions`, `state_machine_arn`), so each count below is one the test chose.
"""

from __future__ import annotations

import json
import threading

from stepsaga.testing._coverage import CoverageCollector, possible_transitions
from stepsaga.workflows.asl import parse_definition
from tests.testing.definitions import APPROVAL, NESTED
from tests.testing.sfn_fakes import ARN, FakeExecution, FakeTransition

APPROVAL_MACHINE = parse_definition(APPROVAL)
NESTED_MACHINE = parse_definition(NESTED)


def execution(
    definition: object, *transitions: tuple[str, str, str | None, str], name: str = "stepsaga-local"
) -> FakeExecution:
    return FakeExecution(
        definition,  # type: ignore[arg-type]
        tuple(FakeTransition(*t) for t in transitions),
        ARN.format(name),
    )


APPROVED_AT_ONCE = (("", "Check", "Approve", "Choices/0"), ("", "Approve", None, "End"))
REVIEWED_TWICE = (
    ("", "Check", "Review", "Default"),
    ("", "Review", "Review", "Retry/0"),
    ("", "Review", "Approve", "Next"),
    ("", "Approve", None, "End"),
)


def test_possible_transitions_are_each_next_default_choice_rule_catcher_retrier_and_end() -> None:
    assert [site.text for site in possible_transitions(APPROVAL_MACHINE)] == [
        "/States/Check/Choices/0 → Approve",
        "/States/Check/Choices/1 → Reject",
        "/States/Check/Default → Review",
        "/States/Review/Retry/0 → Review (retry)",
        "/States/Review/Catch/0 → Reject",
        "/States/Review/Next → Approve",
        "/States/Approve → (end)",
        "/States/Reject → (end)",
    ]


def test_possible_transitions_reach_into_branches_and_map_bodies_in_definition_order() -> None:
    assert [site.text for site in possible_transitions(NESTED_MACHINE)] == [
        "/States/Fan/Next → Each",
        "/States/Fan/Branches/0/States/A/End → (end)",
        "/States/Fan/Branches/1/States/B/Next → B2",
        "/States/Fan/Branches/1/States/B2/End → (end)",
        "/States/Each/Next → Old",
        "/States/Each/ItemProcessor/States/Item/End → (end)",
        "/States/Old/End → (end)",
        "/States/Old/Iterator/States/OldItem/End → (end)",
    ]


def test_a_state_name_needing_escapes_gets_a_valid_json_pointer() -> None:
    machine = parse_definition(
        {"StartAt": "a/b~c", "States": {"a/b~c": {"Type": "Pass", "End": True}}}
    )
    assert [site.pointer for site in possible_transitions(machine)] == ["/States/a~1b~0c/End"]


def test_taken_transitions_and_entered_states_are_counted_per_definition() -> None:
    collector = CoverageCollector()
    collector.record(execution(APPROVAL_MACHINE, *APPROVED_AT_ONCE))
    collector.record(execution(APPROVAL_MACHINE, *REVIEWED_TWICE))

    (coverage,) = collector.report().definitions
    assert coverage.executions == 2
    taken = {site.text: count for site, count in coverage.transitions.values()}
    assert taken == {
        "/States/Check/Choices/0 → Approve": 1,
        "/States/Check/Choices/1 → Reject": 0,
        "/States/Check/Default → Review": 1,
        "/States/Review/Retry/0 → Review (retry)": 1,
        "/States/Review/Catch/0 → Reject": 0,
        "/States/Review/Next → Approve": 1,
        "/States/Approve → (end)": 2,
        "/States/Reject → (end)": 0,
    }
    # States count the executions that entered them (Review was retried, but in one execution).
    entered = {pointer: count for pointer, count in coverage.states.values()}
    assert entered == {
        "/States/Check": 2,
        "/States/Review": 1,
        "/States/Approve": 2,
        "/States/Reject": 0,
    }
    assert coverage.missed_states() == ["/States/Reject"]
    assert coverage.missed_transitions() == [
        "/States/Check/Choices/1 → Reject",
        "/States/Review/Catch/0 → Reject",
        "/States/Reject → (end)",
    ]


def test_an_uncaught_failure_takes_no_transition_but_its_state_was_entered() -> None:
    collector = CoverageCollector()
    collector.record(execution(APPROVAL_MACHINE, ("", "Check", "Review", "Default")))
    collector.record(
        execution(
            APPROVAL_MACHINE, ("", "Check", "Review", "Default"), ("", "Review", None, "Fail")
        )
    )

    (coverage,) = collector.report().definitions
    assert coverage.transitions_covered == 1  # only the Default
    assert coverage.states_covered == 2  # Check, and Review (reached, then failed)


def test_a_fail_state_ends_its_graph_whatever_the_engine_calls_the_transition() -> None:
    collector = CoverageCollector()
    collector.record(
        execution(
            APPROVAL_MACHINE, ("", "Check", "Reject", "Choices/1"), ("", "Reject", None, "Fail")
        )
    )

    (coverage,) = collector.report().definitions
    assert "/States/Reject → (end)" not in coverage.missed_transitions()


def test_transitions_inside_branches_and_map_bodies_count_in_their_scope() -> None:
    collector = CoverageCollector()
    collector.record(
        execution(
            NESTED_MACHINE,
            ("/States/Fan/Branches/1", "B", "B2", "Next"),
            ("/States/Fan/Branches/1", "B2", None, "End"),
            ("", "Fan", "Each", "Next"),
            ("/States/Each/ItemProcessor", "Item", None, "End"),
            ("/States/Each/ItemProcessor", "Item", None, "End"),
            ("", "Each", "Old", "Next"),
            # The legacy Iterator body, named as the engine may name it.
            ("/States/Old/ItemProcessor", "OldItem", None, "End"),
        )
    )

    (coverage,) = collector.report().definitions
    assert coverage.missed_transitions() == [
        "/States/Fan/Branches/0/States/A/End → (end)",
        "/States/Old/End → (end)",
    ]
    taken = {site.pointer: count for site, count in coverage.transitions.values()}
    assert taken["/States/Each/ItemProcessor/States/Item/End"] == 2  # one per iteration
    assert coverage.missed_states() == ["/States/Fan/Branches/0/States/A"]


def test_a_named_machine_is_identified_by_name_an_unnamed_one_by_its_definition() -> None:
    collector = CoverageCollector()
    collector.record(execution(APPROVAL_MACHINE, *APPROVED_AT_ONCE, name="Approval"))
    collector.record(execution(APPROVAL_MACHINE, *APPROVED_AT_ONCE))  # the engine's default name
    # The same definition parsed again is the same unnamed definition.
    collector.record(execution(parse_definition(APPROVAL), *APPROVED_AT_ONCE))

    named, unnamed = collector.report().definitions
    assert (named.key, named.label, named.executions) == ("Approval", "Approval", 1)
    assert unnamed.name is None and unnamed.executions == 2
    assert len(unnamed.key) == 8 and unnamed.key == next(iter(named.digests))
    assert unnamed.label == f"{unnamed.key} (StartAt Check, 'order approval')"


def test_two_versions_of_a_named_machine_are_united_under_its_name() -> None:
    changed = dict(APPROVAL, Comment="order approval, v2")
    collector = CoverageCollector()
    collector.record(execution(APPROVAL_MACHINE, *APPROVED_AT_ONCE, name="Approval"))
    collector.record(execution(parse_definition(changed), *REVIEWED_TWICE, name="Approval"))

    (coverage,) = collector.report().definitions
    assert coverage.label == "Approval (2 versions)"
    assert coverage.executions == 2
    assert coverage.transitions_covered == 5


def test_worker_counts_merged_on_the_controller_equal_one_process_counting_all() -> None:
    # GIVEN two workers, each counting its share of the executions
    workers = [CoverageCollector(), CoverageCollector()]
    alone = CoverageCollector()
    runs = [
        execution(APPROVAL_MACHINE, *APPROVED_AT_ONCE, name="Approval"),
        execution(APPROVAL_MACHINE, *REVIEWED_TWICE, name="Approval"),
        execution(NESTED_MACHINE, ("", "Fan", "Each", "Next")),
    ]
    for index, run in enumerate(runs):
        workers[index % 2].record(run)
        alone.record(run)

    # WHEN their payloads travel as JSON (as pytest-xdist carries them) and are merged
    controller = CoverageCollector()
    for worker in workers:
        controller.merge_payload(json.loads(json.dumps(worker.to_payload())))

    # THEN the report is the one a single process would give
    assert controller.report().to_json() == alone.report().to_json()


def test_the_table_shows_states_and_transitions_per_definition_then_what_was_missed() -> None:
    collector = CoverageCollector()
    collector.record(execution(APPROVAL_MACHINE, *APPROVED_AT_ONCE, name="Approval"))
    collector.record(execution(NESTED_MACHINE, ("", "Fan", "Each", "Next")))
    digest = collector.report().definitions[1].key

    assert collector.report().lines() == [
        "definition              executions     states  transitions",
        "Approval                         1   2/4  50%     2/8  25%",
        f"{digest} (StartAt Fan)           1   2/8  25%     1/8  12%",
        "TOTAL                            2  4/12  33%    3/16  18%",
        "",
        "Approval: never entered:",
        "  /States/Review",
        "  /States/Reject",
        "Approval: never taken:",
        "  /States/Check/Choices/1 → Reject",
        "  /States/Check/Default → Review",
        "  /States/Review/Retry/0 → Review (retry)",
        "  /States/Review/Catch/0 → Reject",
        "  /States/Review/Next → Approve",
        "  /States/Reject → (end)",
        "",
        f"{digest} (StartAt Fan): never entered:",
        "  /States/Fan/Branches/0/States/A",
        "  /States/Fan/Branches/1/States/B",
        "  /States/Fan/Branches/1/States/B2",
        "  /States/Each/ItemProcessor/States/Item",
        "  /States/Old",
        "  /States/Old/Iterator/States/OldItem",
        f"{digest} (StartAt Fan): never taken:",
        "  /States/Fan/Branches/0/States/A/End → (end)",
        "  /States/Fan/Branches/1/States/B/Next → B2",
        "  /States/Fan/Branches/1/States/B2/End → (end)",
        "  /States/Each/Next → Old",
        "  /States/Each/ItemProcessor/States/Item/End → (end)",
        "  /States/Old/End → (end)",
        "  /States/Old/Iterator/States/OldItem/End → (end)",
    ]


def test_a_percentage_reads_100_only_when_everything_is_covered() -> None:
    # 15 of 16 transitions is 93.75 %: shown rounded down, never up to a full 100.
    many = {
        "StartAt": "S0",
        "States": {
            **{f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(15)},
            "S15": {"Type": "Pass", "End": True},
        },
    }
    machine = parse_definition(many)
    collector = CoverageCollector()
    collector.record(execution(machine, *(("", f"S{i}", f"S{i + 1}", "Next") for i in range(15))))

    (coverage,) = collector.report().definitions
    assert coverage.transition_percent == 93.75
    assert "15/16  93%" in collector.report().lines()[1]


def test_the_json_report_lists_every_state_and_transition_with_its_pointer_and_count() -> None:
    collector = CoverageCollector()
    collector.record(execution(APPROVAL_MACHINE, *REVIEWED_TWICE, name="Approval"))

    report = collector.report().to_json()
    assert report["version"] == 1
    assert report["totals"] == {
        "definitions": 1,
        "executions": 1,
        "states": {"covered": 3, "total": 4, "percent": 75.0},
        "transitions": {"covered": 4, "total": 8, "percent": 50.0},
    }
    (entry,) = report["definitions"]
    assert entry["key"] == entry["name"] == "Approval"
    assert entry["start_at"] == "Check" and entry["comment"] == "order approval"
    assert entry["missed_states"] == ["/States/Reject"]
    assert entry["transition_counts"][3] == {
        "pointer": "/States/Review/Retry/0",
        "scope": "",
        "source": "Review",
        "via": "Retry/0",
        "target": "Review",
        "taken": 1,
    }
    assert entry["state_counts"][1] == {
        "pointer": "/States/Review",
        "scope": "",
        "state": "Review",
        "executions": 1,
    }
    assert report["errors"] == []


def test_an_execution_that_cannot_be_read_is_reported_and_never_raises() -> None:
    collector = CoverageCollector()
    collector.record(execution(None, *APPROVED_AT_ONCE))  # no definition

    report = collector.report()
    assert report.definitions == ()
    assert report.errors[0].startswith("AttributeError")
    assert report.lines()[-1].startswith("could not record an execution: AttributeError")


def test_executions_recorded_from_many_threads_are_all_counted() -> None:
    collector = CoverageCollector()
    run = execution(APPROVAL_MACHINE, *REVIEWED_TWICE, name="Approval")

    def record() -> None:
        for _ in range(200):
            collector.record(run)

    threads = [threading.Thread(target=record) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    (coverage,) = collector.report().definitions
    assert coverage.executions == 1600
    taken = {site.text: count for site, count in coverage.transitions.values()}
    assert taken["/States/Review/Retry/0 → Review (retry)"] == 1600


def test_the_table_lists_fifty_definitions_and_leaves_the_rest_to_the_json_report() -> None:
    collector = CoverageCollector()
    for i in range(55):
        machine = parse_definition({"StartAt": f"S{i}", "States": {f"S{i}": {"Type": "Succeed"}}})
        collector.record(execution(machine, ("", f"S{i}", None, "End"), name=f"M{i:02}"))

    lines = collector.report().lines()

    assert [line.split()[0] for line in lines[1:51]] == [f"M{i:02}" for i in range(50)]
    assert lines[51:] == [
        "... 5 more in the JSON report",
        "TOTAL               55  55/55 100%   55/55 100%",
    ]
    assert len(collector.report().to_json()["definitions"]) == 55
