"""Definitions the plugin's tests run and measure: every kind of transition, every kind of graph."""

from __future__ import annotations

from typing import Any

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:review"

# A Choice with two rules and a Default, a Task with a retrier and a catcher, Succeed and Fail.
APPROVAL: dict[str, Any] = {
    "Comment": "order approval",
    "StartAt": "Check",
    "States": {
        "Check": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.amount", "NumericLessThan": 100, "Next": "Approve"},
                {"Variable": "$.amount", "NumericGreaterThan": 1000, "Next": "Reject"},
            ],
            "Default": "Review",
        },
        "Review": {
            "Type": "Task",
            "Resource": LAMBDA,
            "Retry": [{"ErrorEquals": ["States.Timeout"]}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Reject"}],
            "Next": "Approve",
        },
        "Approve": {"Type": "Succeed"},
        "Reject": {"Type": "Fail", "Error": "Rejected"},
    },
}

# Graphs inside graphs: a Parallel's branches, a Map's ItemProcessor, a legacy Iterator.
NESTED: dict[str, Any] = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                {
                    "StartAt": "B",
                    "States": {
                        "B": {"Type": "Wait", "Seconds": 1, "Next": "B2"},
                        "B2": {"Type": "Pass", "End": True},
                    },
                },
            ],
            "ResultPath": "$.fan",
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}},
            "ResultPath": "$.each",
            "Next": "Old",
        },
        "Old": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "Iterator": {
                "StartAt": "OldItem",
                "States": {"OldItem": {"Type": "Pass", "End": True}},
            },
            "End": True,
        },
    },
}
