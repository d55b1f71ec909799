"""schemathesis against the running `serve`'s own OpenAPI schema: no 5xx, no schema violations.

The case count is bounded and derandomized, so the suite stays fast and repeatable on CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from stepsaga.infra.local.gateway import Serving, serve

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    key = tmp_path_factory.mktemp("key") / "dev-key.pem"
    with serve(port=0, stores="memory", key=key) as running:
        yield running


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_answers_every_generated_request_within_its_schema(
    serving: Serving, mode: GenerationMode
) -> None:
    # Driven through schemathesis' Python API: its pytest loader (`from_fixture`) reads a
    # private pytest attribute that pytest 9.2 removed.
    token = serving.token("acme", "fuzzer", email="fuzzer@example.com")
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_url(f"{serving.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} == {"/commands/PlaceOrder", "/executions/{execution_id}"}
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(base_url=serving.url, headers=headers)

        check()
