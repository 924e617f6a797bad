"""The baselines of the HTTP benchmarks: bare Falcon, one insert or one page from memory.

Served by gunicorn with the same threads as ``cbp serve``. POST
/payment/one-time parses the JSON body, inserts one row into
``bench_payments`` and answers 201 with the row (no auth, validation,
idempotency, events or outbox). GET /payee/global-payee/name/{text} answers
a page of 20 billers held in memory, as a cache hit would (no auth, no
cache lookup).
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import falcon
from sqlalchemy import Column, DateTime, MetaData, Numeric, String, Table, create_engine, insert

metadata = MetaData()
payments = Table(
    "bench_payments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("customer_id", String(40), nullable=False),
    Column("amount", Numeric(17, 2), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
engine = create_engine(os.environ["BENCH_DATABASE_URL"], pool_size=10, max_overflow=10)
metadata.create_all(engine)


class Payments:
    """POST: insert one payment row."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Insert and echo the row."""
        body = req.get_media()
        row = {
            "id": f"pmt_{uuid.uuid4().hex}",
            "customer_id": body["customer_id"],
            "amount": body["amount"],
            "created_at": datetime.now(UTC),
        }
        with engine.begin() as conn:
            conn.execute(insert(payments).values(**row))
        resp.status = falcon.HTTP_201
        resp.media = {**row, "created_at": row["created_at"].isoformat()}


#: A page of 20 billers, shaped like cbp's answer to a directory search.
PAGE = {
    "items": [
        {
            "id": f"gpy_{n:032d}",
            "name": f"Pacific Gas & Electric {n}",
            "aliases": ["PG&E"],
            "category": "utilities",
            "status": "active",
            "lead_days": 2,
        }
        for n in range(20)
    ],
    "next_cursor": None,
}


class Search:
    """GET: one page of billers, from memory."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, partial_name: str) -> None:
        """Answer the same page whatever the text."""
        resp.media = PAGE


app = falcon.App()
app.add_route("/payment/one-time", Payments())
app.add_route("/payee/global-payee/name/{partial_name}", Search())
