"""Directory search on a synthetic directory: indexed vs. a plain scan.

    .venv/bin/python bench/directory_search.py --billers 100000

For each database (SQLite, and PostgreSQL when reachable) it loads the
directory once through the import use case, then times the adapter's
search (first page of 20, uncached) against the baseline of the same
query as a plain ``LIKE '%text%'`` scan of the same table, in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from cbp.adapters.directory_files.synthetic import generate_billers
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.unit_of_work import SqlAlchemyUnitOfWork
from cbp.bootstrap import bootstrap
from cbp.services.directory import import_directory
from cbp.settings import Settings

#: The same ranked first page, found by scanning the table instead of the index.
RANKED_SCAN = """
SELECT *, CASE WHEN name_folded LIKE :prefix THEN 0
               WHEN search_text LIKE :alias OR search_text LIKE :word THEN 1 ELSE 2 END AS rank
FROM global_payees WHERE search_text LIKE :contains
ORDER BY rank, name_folded, id LIMIT 21
"""
QUERIES = ("pacific", "water", "gas & el", "springfield electric", "zz-nothing", "co")
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds each of ``repeat`` runs of ``action`` took."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def load(url: str, count: int) -> Engine:
    """Import ``count`` synthetic billers through the use case; return the engine."""
    app = bootstrap(
        Settings(
            database_url=url,
            auto_migrate=True,
            api_key_secret="bench",
            encryption_keys=FieldCipher.generate_key(),
        )
    )
    started = time.perf_counter()
    import_directory(app.deps, generate_billers(count, seed=1), batch=5000)
    print(f"  loaded {count} billers in {time.perf_counter() - started:.1f}s")
    engine = app.container.gateways.engine()
    app.container.gateways.engine.override(engine)  # NOTE: keep it open past app.close()
    return engine


def measure(name: str, engine: Engine, repeat: int) -> list[str]:
    """Table rows comparing the adapter's search with the ranked scan."""
    cipher = FieldCipher([FieldCipher.generate_key()])
    rows = []
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    for query in QUERIES:

        def indexed(query: str = query) -> object:
            with SqlAlchemyUnitOfWork(engine, cipher) as uow:
                return uow.directory.search(query, cursor=None, limit=20)

        def scan(query: str = query) -> object:
            folded = query.casefold()
            with engine.connect() as conn:
                return conn.execute(
                    text(RANKED_SCAN),
                    {
                        "contains": f"%{folded}%",
                        "prefix": f"{folded}%",
                        "word": f"% {folded}%",
                        "alias": f"%\x1f{folded}%",
                    },
                ).all()

        indexed()
        scan()
        fast = statistics.median(timed(indexed, repeat))
        slow = statistics.median(timed(scan, repeat))
        hits = len(indexed().items)  # type: ignore[attr-defined]
        rows.append(
            f"| {name} | `{query}` | {hits} | {fast:.2f} | {slow:.2f} | {slow / fast:.1f}x |"
        )
    return rows


def main() -> None:
    """Measure SQLite, then PostgreSQL if it answers, and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--billers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    table = [
        "| database | query | hits (page) | search p50 ms | ranked scan p50 ms | speed-up |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        print("SQLite")
        engine = load(f"sqlite:///{Path(folder) / 'bench.db'}", args.billers)
        table += measure("SQLite", engine, args.repeat)
        engine.dispose()
    name = f"cbp_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        print(f"PostgreSQL skipped: {error}")
    else:
        try:
            print("PostgreSQL")
            url = make_url(POSTGRES_ADMIN).set(database=name).render_as_string(False)
            engine = load(url, args.billers)
            table += measure("PostgreSQL", engine, args.repeat)
            engine.dispose()
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print("\n".join(table))


if __name__ == "__main__":
    main()
