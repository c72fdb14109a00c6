"""Every API operation of the OpenAPI document, fuzzed by schemathesis as an admin and as a customer.

Generic over the route table: the operations come from the app's own `/schema/openapi.json`, so a
route a context adds is fuzzed without anyone listing it. Bounded (`EXAMPLES` positive and negative
cases per operation, fixed seed, no shrinking) so it fits a CI minute; raise
`RETAGUARDA_FUZZ_EXAMPLES` for a deeper local run. Passes when no response is a server error and
every response conforms to the schema the document declares for it (status code, content type,
body).
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.hardening.conftest import Demo

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("RETAGUARDA_FUZZ_EXAMPLES", "4"))
SEED = 20_2026


def _checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [not_a_server_error, status_code_conformance, content_type_conformance,
            response_schema_conformance]


def _fuzz(demo: Demo, role: str) -> tuple[int, list[str]]:
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis import strategies as st
    from schemathesis.generation import GenerationMode

    from retaguarda.main import create_app

    # A second app over the same container: schemathesis runs its lifespan itself (the fixture's
    # TestClient already ran the first one's).
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", create_app(demo.container))
    checks = _checks()
    failures: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        strategy = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                             operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        seen: list[str] = []

        @seed(SEED)
        @settings(max_examples=EXAMPLES * 2, deadline=None, database=None, derandomize=False,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            headers = {"Authorization": f"Bearer {demo.tokens[role]}"}
            response = case.call(headers=headers)
            try:
                case.validate_response(response, checks=checks)
            except (Exception, BaseExceptionGroup) as exc:  # collected, reported all at once below
                if len(seen) < 2:
                    seen.append(f"{operation.label} [{role}] {response.status_code}: "
                                f"{str(exc).strip()[:1500]}")

        run()
        failures.extend(seen)
    return calls, failures


@pytest.mark.parametrize("role", ["admin", "customer"])
def test_no_operation_answers_a_server_error_or_breaks_its_schema(demo: Demo, role: str) -> None:
    calls, failures = _fuzz(demo, role)
    assert calls > 100
    assert not failures, f"{len(failures)} failing operations:\n\n" + "\n\n".join(failures)
