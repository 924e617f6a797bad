"""The floor of the stack: what a payment's statements cost before any of cbp's own code runs.

    .venv/bin/python bench/stack_floor.py --payments 400

Two measurements on one fresh PostgreSQL database, multiplied:

1. What a payment sends to PostgreSQL. Payments are created by POST
   /payment/one-time through the API app, then carried to their end in
   this process (the in-memory broker, with the same use cases,
   subscribers and SQL adapters as a deployment), while psycopg's cursors
   count the statements cbp executes (an executemany as one) and PostgreSQL counts the
   transactions. The creation alone is what a POST sends.
2. What a statement and a transaction cost on this stack: transactions of
   one and of nine statements, built once (a primary-key read and a row's
   insert in turn), through SQLAlchemy Core as cbp's adapters run them and
   through psycopg alone, from 8 threads. The CPU of this process and of
   PostgreSQL's, per transaction; the difference between the two sizes is
   a statement's cost, the rest a transaction's.

The floor is the first times the second: the CPU a POST, or a payment's
whole life, would cost if every line of cbp's own code (validation, the
domain, JSON, routing, tracing) cost nothing, and each statement were the
cheapest kind.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import falcon.testing
import psutil
import psycopg
from http_payments import cpu_seconds
from pipeline_throughput import world_of
from scratch_database import POSTGRES_ADMIN, fresh_database
from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url

from cbp.adapters.sql.crypto import FieldCipher
from cbp.bootstrap import bootstrap
from cbp.domain.access import TENANT_SCOPES
from cbp.entrypoints.wsgi import api_app
from cbp.services import commands as c
from cbp.settings import Settings

THREADS = 8
SIZES = (1, 9)


@dataclass(frozen=True)
class Sent:
    """What some work sent to PostgreSQL, per unit of it."""

    statements: float
    transactions: float


@dataclass(frozen=True)
class Cost:
    """CPU milliseconds of one statement and of one transaction (its BEGIN and COMMIT)."""

    client_statement: float
    client_transaction: float
    server_statement: float
    server_transaction: float

    def client(self, sent: Sent) -> float:
        """The client's CPU for ``sent``."""
        return sent.statements * self.client_statement + sent.transactions * self.client_transaction

    def everywhere(self, sent: Sent) -> float:
        """The client's and PostgreSQL's CPU for ``sent``."""
        server = sent.statements * self.server_statement
        return self.client(sent) + server + sent.transactions * self.server_transaction


@contextmanager
def statements_counted(cursor_type: type[Any]) -> Iterator[list[int]]:
    """A count, in its first item, of the statements sent through cursors of ``cursor_type``.

    Counted at the driver, so that statements SQLAlchemy runs and those cbp
    runs on psycopg's cursor directly count alike (an executemany as one).
    """
    count = [0]
    originals = {name: getattr(cursor_type, name) for name in ("execute", "executemany")}

    def counting(run: Callable[..., Any]) -> Callable[..., Any]:
        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            count[0] += 1
            return run(self, *args, **kwargs)

        return counted

    for name, run in originals.items():
        setattr(cursor_type, name, counting(run))
    try:
        yield count
    finally:
        for name, run in originals.items():
            setattr(cursor_type, name, run)


def transactions_so_far(database: str) -> int:
    """Transactions PostgreSQL counted in ``database`` (committed and rolled back)."""
    name = make_url(database).database
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            count = conn.execute(
                text("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = :n"),
                {"n": name},
            ).scalar_one()
    finally:
        admin.dispose()
    return int(count)


def what_a_payment_sends(database: str, payments: int) -> tuple[Sent, Sent]:
    """Statements and transactions a payment's creation, and its whole life, send."""
    settings = Settings(
        database_url=database,
        auto_migrate=True,
        api_key_secret="bench",
        encryption_keys=FieldCipher.generate_key(),
        rate_limit=10**8,
    )
    app = bootstrap(settings)
    engine: Engine = app.container.gateways.engine()
    tenant = app.handle(c.CreateTenant(name="Floor Bank"))
    world = world_of(app, tenant, 0)
    key = app.handle(c.CreateApiKey(tenant_id=tenant, scopes=tuple(sorted(TENANT_SCOPES))))
    api = falcon.testing.TestClient(api_app(app, settings))
    headers = {"Authorization": f"Bearer {key.token}"}
    body = {k: v for k, v in world.items() if k != "tenant_id"}
    api.simulate_get("/payee/global-payee/name/bench", headers=headers)  # NOTE: key now known
    app.run_until_idle()
    with statements_counted(psycopg.Cursor) as statements:

        def counted() -> tuple[int, int]:
            # NOTE: closing the pool's connections makes their backends report their transactions
            engine.dispose()
            time.sleep(0.5)
            return statements[0], transactions_so_far(database)

        first = counted()
        created = []
        for n in range(payments):
            cents = (0, 13, 14, 15)[n % 4]  # NOTE: completed, nsf, returned, account closed
            answer = api.simulate_post(
                "/payment/one-time",
                json={**body, "amount": f"{10 + n % 50}.{cents:02d}"},
                headers={**headers, "Idempotency-Key": f"floor-{n}"},
            )
            if answer.status_code != 201:
                raise SystemExit(f"POST /payment/one-time: {answer.status} {answer.text}")
            created.append(answer.json["id"])
        after_creation = counted()
        send_on = app.queries.get_payment(tenant, created[0]).send_on
        app.handle(c.StartProcessingJob(tenant_id=tenant, due_on=send_on, send_now=True))
        app.run_until_idle()
        after_life = counted()
    ended = {app.queries.get_payment(tenant, p).status.value for p in created}
    app.close()
    if not ended <= {"completed", "failed", "returned"}:
        raise SystemExit(f"payments did not all end: {sorted(ended)}")
    creation = Sent(
        statements=(after_creation[0] - first[0]) / payments,
        transactions=(after_creation[1] - first[1]) / payments,
    )
    life = Sent(
        statements=(after_life[0] - first[0]) / payments,
        transactions=(after_life[1] - first[1]) / payments,
    )
    return creation, life


def here_and_in_postgresql() -> tuple[float, float]:
    """CPU seconds so far of this process, and of PostgreSQL's processes."""
    postgresql = [
        p for p in psutil.process_iter(["name"]) if (p.info["name"] or "").startswith("postgres")
    ]
    return cpu_seconds([psutil.Process()]), cpu_seconds(postgresql)


def per_transaction(
    pool: ThreadPoolExecutor, run: Callable[[int], None], count: int
) -> tuple[float, float]:
    """CPU ms of this process and PostgreSQL's per call of ``run``, on ``pool``'s threads."""
    client, server = here_and_in_postgresql()
    list(pool.map(run, range(count)))
    client_after, server_after = here_and_in_postgresql()
    return (client_after - client) * 1000 / count, (server_after - server) * 1000 / count


def what_a_statement_costs(database: str, count: int, rounds: int) -> dict[str, Cost]:
    """A statement's and a transaction's CPU through SQLAlchemy Core and psycopg alone.

    Each size is measured ``rounds`` times, the two in turn, and the median
    kept; the threads and their connections live for the whole measurement,
    so no connection's setup is counted.
    """
    metadata = MetaData()
    rows = Table(
        "floor_rows",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("kind", String(40), nullable=False),
        Column("body", String(400), nullable=False),
    )
    engine = create_engine(database, pool_size=THREADS)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(rows), [{"kind": "seed", "body": "x" * 200}] * 1000)
    read = select(rows).where(rows.c.id == bindparam("id"))
    write = insert(rows)
    dsn = make_url(database).set(drivername="postgresql").render_as_string(False)
    local = threading.local()
    opened: list[psycopg.Connection[tuple[object, ...]]] = []

    def through_core(size: int) -> Callable[[int], None]:
        def run(n: int) -> None:
            with engine.begin() as conn:
                for i in range(size):
                    if i % 2:
                        conn.execute(write, {"kind": "floor", "body": "y" * 200})
                    else:
                        conn.execute(read, {"id": 1 + (n + i) % 1000}).first()

        return run

    def through_psycopg(size: int) -> Callable[[int], None]:
        def run(n: int) -> None:
            if not hasattr(local, "conn"):
                local.conn = psycopg.connect(dsn)
                opened.append(local.conn)
            with local.conn.transaction():
                for i in range(size):
                    if i % 2:
                        local.conn.execute(
                            "INSERT INTO floor_rows (kind, body) VALUES (%s, %s)",
                            ("floor", "y" * 200),
                        )
                    else:
                        local.conn.execute(
                            "SELECT id, kind, body FROM floor_rows WHERE id = %s",
                            (1 + (n + i) % 1000,),
                        ).fetchone()

        return run

    costs = {}
    with ThreadPoolExecutor(THREADS) as pool:
        for name, make in (("SQLAlchemy Core", through_core), ("psycopg", through_psycopg)):
            per_transaction(pool, make(SIZES[1]), THREADS * 20)  # NOTE: connect, prepare
            runs: dict[int, list[tuple[float, float]]] = {size: [] for size in SIZES}
            for _ in range(rounds):
                for size in SIZES:
                    runs[size].append(per_transaction(pool, make(size), count))
            small, large = (
                tuple(statistics.median(run[k] for run in runs[size]) for k in (0, 1))
                for size in SIZES
            )
            statements = SIZES[1] - SIZES[0]
            client = (large[0] - small[0]) / statements
            server = (large[1] - small[1]) / statements
            costs[name] = Cost(
                client_statement=client,
                client_transaction=small[0] - SIZES[0] * client,
                server_statement=server,
                server_transaction=max(0.0, small[1] - SIZES[0] * server),
            )
    for connection in opened:
        connection.close()
    engine.dispose()
    return costs


def main() -> None:
    """Count a payment's statements, price a statement, print both and their product."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=400)
    parser.add_argument("--transactions", type=int, default=2000, help="a size a round")
    parser.add_argument("--rounds", type=int, default=3, help="of each size and driver")
    args = parser.parse_args()
    with fresh_database() as database:
        creation, life = what_a_payment_sends(database, args.payments)
        costs = what_a_statement_costs(database, args.transactions, args.rounds)
    print("| sent to PostgreSQL | statements | transactions |")
    print("|---|---|---|")
    for label, sent in (("creating a payment (a POST)", creation), ("a payment's life", life)):
        print(f"| {label} | {sent.statements:.1f} | {sent.transactions:.1f} |")
    print()
    print(
        "| driver | statement CPU ms: client / PostgreSQL "
        "| transaction CPU ms: client / PostgreSQL "
        "| floor of a POST, client CPU ms | floor of a payment, all CPU ms |"
    )
    print("|---|---|---|---|---|")
    for name, cost in costs.items():
        print(
            f"| {name} | {cost.client_statement:.3f} / {cost.server_statement:.3f} "
            f"| {cost.client_transaction:.3f} / {cost.server_transaction:.3f} "
            f"| {cost.client(creation):.2f} | {cost.everywhere(life):.2f} |"
        )


if __name__ == "__main__":
    main()
