"""Every benchmark still runs, at a size small enough for the suite.

Their figures are not checked here (a test never asserts a timing); the
point is that each script keeps working, so its numbers can be reproduced.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.databases import POSTGRES_ADMIN_URL

BENCH = Path(__file__).resolve().parents[2] / "bench"
#: A quick run of each: the script, its arguments, and text its table's rows must hold.
QUICK_RUNS = {
    "directory_search": (["--billers", "500", "--repeat", "1"], ["SQLite", "PostgreSQL"]),
    "replay": (["--payments", "50"], ["SQLite", "PostgreSQL"]),
    "http_payments": (["--requests", "40", "--clients", "2"], ["bare Falcon", "cbp serve"]),
    "http_search": (["--requests", "40", "--clients", "2"], ["bare Falcon", "cbp serve, cached"]),
    "stack_floor": (
        ["--payments", "8", "--transactions", "40"],
        ["creating a payment (a POST)", "| SQLAlchemy Core |", "| psycopg |"],
    ),
    "pipeline_throughput": (["--payments", "10", "--broker", "redis"], ["| redis | 10 |"]),
    "memory": (
        ["--broker", "redis", "--settle", "2"],
        ["bare Dramatiq worker", "relay", "serve (gunicorn worker)"],
    ),
    "memory embedded": (
        ["--embedded-payments", "8", "--settle", "1"],
        ["serve (gunicorn master) | 8 |", "serve (gunicorn worker, API and pump) | 8 |"],
    ),
}

pytestmark = [pytest.mark.slow, pytest.mark.services]


@pytest.mark.parametrize("script", sorted(QUICK_RUNS))
def test_the_benchmark_runs_and_prints_its_table(script: str) -> None:
    require_service("PostgreSQL", POSTGRES_ADMIN_URL.replace("postgresql+psycopg", "postgresql"))
    require_service("Redis", "redis://127.0.0.1:6379/0")
    arguments, expected = QUICK_RUNS[script]
    done = subprocess.run(
        [sys.executable, str(BENCH / f"{script.split()[0]}.py"), *arguments],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = [line for line in done.stdout.splitlines() if line.startswith("|")]
    assert len(table) >= 3, done.stdout  # NOTE: a header, its rule, and rows
    for text in expected:
        assert any(text in row for row in table[2:]), (text, table)
