"""On PostgreSQL a payment's life ends each of its transactions with a commit.

psycopg forgets every statement a connection prepared when the connection
rolls back, so each rollback in a hot path costs the next statements their
parse and plan again. Units of work that only read are opened read-only (no
transaction at all on PostgreSQL), and those that may find nothing to do
commit anyway.
"""

from __future__ import annotations

import traceback

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine

from cbp.adapters.sql.crypto import FieldCipher
from cbp.bootstrap import bootstrap
from cbp.demo import run_demo
from cbp.settings import Settings

pytestmark = pytest.mark.services


@pytest.fixture
def rollbacks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Where each rollback of an open PostgreSQL transaction was asked for."""
    seen: list[str] = []
    original = psycopg.Connection.rollback

    def rollback(self: psycopg.Connection[object]) -> None:
        if self.pgconn.transaction_status != TransactionStatus.IDLE:
            seen.append("".join(traceback.format_stack(limit=12)))
        original(self)

    monkeypatch.setattr(psycopg.Connection, "rollback", rollback)
    return seen


def test_a_payments_life_never_rolls_a_transaction_back(
    postgres_engine: Engine, postgres_url: str, rollbacks: list[str]
) -> None:
    """The demo's tour: a customer, a payee, four payments to their four ends, and notices."""
    app = bootstrap(
        Settings(
            database_url=postgres_url,
            api_key_secret="test",
            encryption_keys=FieldCipher.generate_key(),
        )
    )
    try:
        app.container.gateways.engine()  # NOTE: opened, its first connection checked
        rollbacks.clear()
        outcomes = run_demo(app, say=lambda line: None)
    finally:
        app.close()

    assert sorted(outcomes.values()) == ["completed", "completed", "failed", "returned"]
    assert rollbacks == [], "\n\n".join(rollbacks)
