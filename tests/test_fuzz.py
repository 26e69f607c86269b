"""A schema-driven fuzz run of the JSON API (schemathesis, bounded): no 5xx, no response outside the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from magbot import Magbot, Settings
from magbot.frontends.server import create_app
from tests.conftest import KNOWLEDGE


@pytest.fixture(scope="module")
def api_schema(bot: Magbot, tmp_path_factory: pytest.TempPathFactory) -> Any:
    data: Path = tmp_path_factory.mktemp("fuzz")
    config = Settings(
        data_dir=data,
        knowledge_dir=KNOWLEDGE,
        api_docs=True,  # the schema is served for this run only
        rate_limit="100000/minute",
        feedback_rate_limit="100000/minute",
    )
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(config, bot=bot))


def test_the_api_holds_its_schema_under_fuzzing(api_schema: Any) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/ask", "/api/ask/stream", "/api/feedback", "/api/health"}
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: Any) -> None:
            # Semantic refusals (an empty question is a 422 with the answer object) are by design, so the
            # "schema-valid data must be accepted" check is left out; 5xx and schema breaks are checked.
            response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
            statuses.append(response.status_code)

        run()
    print(f"{len(statuses)} fuzz cases: " + ", ".join(f"{c}x{statuses.count(c)}" for c in sorted(set(statuses))))
    assert len(statuses) >= 60 and all(code < 500 for code in statuses)
