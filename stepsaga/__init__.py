"""stepsaga: CQRS sagas in Python, compiled to AWS Step Functions, tested in-process."""
