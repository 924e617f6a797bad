"""schemathesis against api.json on a real server: every check, every phase.

Runs on the embedded default and on PostgreSQL with Redis, twice: from
pytest, with a fresh Idempotency-Key on each request, and as its command
line runs for an outside user, in its default configuration.
``schemathesis.toml`` lists the rules that schema-valid data may still break.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.e2e.server import DATABASE_NAMES, DATABASES, Server, server_on

ROOT = Path(__file__).parents[2]
schema = schemathesis.openapi.from_path(ROOT / "api.json")
#: The fuzzers send many requests, and many without a key: no limit may interfere.
UNLIMITED = {"CBP_RATE_LIMIT": "100000000", "CBP_AUTH_FAILURE_LIMIT": "100000000"}


@pytest.fixture(scope="module", params=DATABASES)
def fuzz_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with server_on(request.param, tmp_path_factory.mktemp("fuzz"), UNLIMITED) as running:
        yield running


def call_options(case: schemathesis.Case, server: Server) -> dict[str, Any]:
    """Where to send a case, with the demo key and a fresh Idempotency-Key."""
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    key = (
        server.operator_key
        if (case.operation.definition.raw.get("x-scope") or "")
        in (
            "directory:admin",
            "operations:read",
        )
        else server.key
    )
    return {
        "base_url": server.base_url,
        "headers": {"Authorization": f"Bearer {key}"},
        "timeout": 15,
    }


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_documented_contract(
    case: schemathesis.Case, fuzz_server: Server
) -> None:
    response = case.call(**call_options(case, fuzz_server))
    case.validate_response(response)


@pytest.mark.slow
@pytest.mark.timeout(900)  # every phase at its default size: minutes on a loaded machine
def test_schemathesis_in_its_default_configuration_finds_only_the_listed_rules(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """What an outside user runs: every phase, every check, the default number of examples.

    The only options are where the server is and the key to use; the
    schema-valid requests it may refuse are the rules in ``schemathesis.toml``.
    Both databases are fuzzed at once, each by a run of its own against a
    server of its own: most of a run is waiting on the other side.
    """
    with ExitStack() as servers:
        running: dict[str, Server] = {}
        for database in DATABASE_NAMES:
            try:
                running[database] = servers.enter_context(
                    server_on(database, tmp_path_factory.mktemp("cli"), UNLIMITED)
                )
            except pytest.skip.Exception:  # NOTE: no PostgreSQL here: SQLite's run still goes
                continue
        runs = {
            database: subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "schemathesis"),
                    "run",
                    str(ROOT / "api.json"),
                    "--url",
                    server.base_url,
                    "--header",
                    f"Authorization: Bearer {server.key}",
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for database, server in running.items()
        }
        try:
            outputs = {database: run.communicate(timeout=880)[0] for database, run in runs.items()}
        finally:
            for run in runs.values():
                run.kill()
    for database, output in outputs.items():
        assert runs[database].returncode == 0, f"{database}:\n{output[-8000:]}"
        for phase in ("Coverage", "Fuzzing", "Stateful"):
            assert f"✅ {phase}" in output, f"{database}:\n{output[-3000:]}"
