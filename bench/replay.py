"""Event replay: rebuilding the payment views, against reading the events alone.

    .venv/bin/python bench/replay.py --payments 20000

It saves ``--payments`` payments (4 events each: created, validated,
processed, completed) through the repository, then times ``cbp replay``'s
use case (read every event, replay each stream, rewrite every view in one
transaction) against the baseline of reading the same events with a plain
``SELECT`` in the same run, on SQLite and on PostgreSQL when reachable.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from scratch_database import create_database, drop_database
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.setup import open_engine
from cbp.adapters.sql.unit_of_work import SqlAlchemyUnitOfWork
from cbp.bootstrap import bootstrap
from cbp.domain.money import Money
from cbp.domain.payment import Payment
from cbp.services.replay import rebuild_payment_views
from cbp.settings import Settings

KEY = FieldCipher.generate_key()
AT = datetime(2026, 3, 2, 14, tzinfo=UTC)


def write(engine: Engine, count: int) -> None:
    """``count`` completed payments, 1,000 to a transaction."""
    cipher = FieldCipher([KEY])
    for start in range(0, count, 1000):
        with SqlAlchemyUnitOfWork(engine, cipher) as uow:
            for n in range(start, min(start + 1000, count)):
                payment = Payment.create(
                    payment_id=f"pmt_bench{n:012d}",
                    tenant_id=f"ten_{n % 3}",
                    customer_id=f"cus_{n % 50}",
                    payee_id="pye_1",
                    funding_account_id="fac_1",
                    amount=Money.of("12.34", "USD"),
                    send_on=date(2026, 3, 2),
                    deliver_by=date(2026, 3, 2) + timedelta(days=2),
                    memo="bench",
                    at=AT,
                )
                payment.validate(at=AT)
                payment.submit(processor_reference=payment.id, at=AT)
                payment.complete(at=AT)
                uow.payments.save(payment)
            uow.commit()


def measure(url: str, count: int) -> tuple[int, float, float]:
    """Events, seconds to replay them, seconds to read them raw."""
    engine = open_engine(url, auto_migrate=True)
    write(engine, count)
    start = time.perf_counter()
    with engine.connect() as conn:
        events = len(conn.execute(text("SELECT * FROM events ORDER BY position")).fetchall())
    raw = time.perf_counter() - start
    app = bootstrap(Settings(database_url=url, api_key_secret="bench", encryption_keys=KEY))
    try:
        start = time.perf_counter()
        rebuilt = rebuild_payment_views(app.deps)
        replay = time.perf_counter() - start
    finally:
        app.close()
        engine.dispose()
    assert rebuilt == count, f"rebuilt {rebuilt} of {count}"
    return events, replay, raw


def main() -> None:
    """Print one Markdown row per database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = [("SQLite", *measure(f"sqlite:///{Path(folder)}/replay.db", args.payments))]
    try:
        url = create_database()
    except OperationalError as error:
        print(f"PostgreSQL skipped: {error}")
    else:
        try:
            rows.append(("PostgreSQL", *measure(url, args.payments)))
        finally:
            drop_database(url)
    print("| database | events | replay events/s | raw read events/s | ratio |")
    print("|---|---|---|---|---|")
    for label, events, replay, raw in rows:
        print(
            f"| {label} | {events} | {events / replay:,.0f} | {events / raw:,.0f} | "
            f"{raw / replay:.2f} |"
        )


if __name__ == "__main__":
    main()
