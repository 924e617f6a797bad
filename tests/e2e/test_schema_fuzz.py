"""schemathesis against api.json on a real server: no 5xx, every response as documented."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.e2e.server import Server, running_server

#: No 5xx, and every response as documented: status, media type, body and headers.
#: (Domain refusals of schema-valid data, like a reused Idempotency-Key, are 422 by design.)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]

schema = schemathesis.openapi.from_path(Path(__file__).parents[2] / "api.json")


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("fuzz"), {"CBP_RATE_LIMIT": "100000"}) as running:
        yield running


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_documented_contract(
    case: schemathesis.Case, fuzz_server: Server
) -> None:
    response = case.call(
        base_url=fuzz_server.base_url,
        headers={"Authorization": f"Bearer {fuzz_server.key}"},
        timeout=15,
    )
    case.validate_response(response, checks=CHECKS)
