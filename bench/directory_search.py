"""Directory search on a synthetic directory: indexed vs. a plain scan.

    .venv/bin/python bench/directory_search.py --billers 100000

For each database (SQLite, and PostgreSQL when reachable) it loads the
directory once through the import use case, then times the adapter's
search (first page of 20, uncached) against the baseline of the same
ranked page found by a plain ``LIKE '%text%'`` scan of the same table, in
the same run: a few texts one by one, and the 36 one-character searches
(``a`` to ``z``, ``0`` to ``9``) taken together.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scratch_database import create_database, drop_database
from sqlalchemy import Engine, text

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
ORDER BY rank, -popularity, name_folded, id LIMIT 21
"""
QUERIES = ("pacific", "water", "gas & el", "springfield electric", "zz-nothing", "co")
ONE_CHARACTER = tuple("abcdefghijklmnopqrstuvwxyz0123456789")


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
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # NOTE: what autovacuum does after a bulk load: statistics and the visibility map
        conn.exec_driver_sql("ANALYZE" if engine.dialect.name == "sqlite" else "VACUUM ANALYZE")
    rows = []
    for query in QUERIES:
        fast, slow, hits = compare(engine, query, repeat)
        beats = float(statistics.median(fast) < statistics.median(slow))
        rows.append(row(name, f"`{query}`", str(hits), fast, slow, beats))
    pooled: tuple[list[float], list[float]] = ([], [])
    beaten, fewest = 0, 20
    for query in ONE_CHARACTER:
        fast, slow, hits = compare(engine, query, repeat)
        pooled[0].extend(fast)
        pooled[1].extend(slow)
        beaten += statistics.median(fast) < statistics.median(slow)
        fewest = min(fewest, hits)
    label = "36 single characters, a to z and 0 to 9"
    rows.append(row(name, label, f"{fewest} or more", *pooled, beaten / len(ONE_CHARACTER)))
    return rows


def row(
    name: str, query: str, hits: str, fast: list[float], slow: list[float], beaten: float
) -> str:
    """One Markdown row: percentiles of both, and how often the search beat the scan."""
    fast_p50, slow_p50 = statistics.median(fast), statistics.median(slow)
    return (
        f"| {name} | {query} | {hits} | {fast_p50:.2f} | {percentile(fast, 0.99):.2f} | "
        f"{slow_p50:.2f} | {slow_p50 / fast_p50:.1f}x | {beaten:.0%} |"
    )


def percentile(samples: list[float], fraction: float) -> float:
    """The sample below which ``fraction`` of them fall."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def compare(engine: Engine, query: str, repeat: int) -> tuple[list[float], list[float], int]:
    """Timings (ms) of the search and of the ranked scan, and the search's hits."""
    cipher = FieldCipher([FieldCipher.generate_key()])

    def indexed(query: str = query) -> object:
        with SqlAlchemyUnitOfWork(engine, cipher) as uow:
            return uow.directory.search(query, cursor=None, limit=20)

    def scan(query: str = query) -> object:
        folded = query.casefold()
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":  # NOTE: or the trigram index would answer it
                conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
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
    hits = len(indexed().items)  # type: ignore[attr-defined]
    return timed(indexed, repeat), timed(scan, repeat), hits


def label(run: int, runs: int) -> str:
    """`` (run 2)`` when there are several runs, else nothing."""
    return f" (run {run + 1})" if runs > 1 else ""


def main() -> None:
    """Measure SQLite, then PostgreSQL if it answers, and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--billers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--runs", type=int, default=1, help="measure each loaded database this many times"
    )
    args = parser.parse_args()
    table = [
        "| database | query | hits (page) | search p50 ms | search p99 ms | ranked scan p50 ms "
        "| speed-up | search beats scan |",
        "|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        print("SQLite")
        engine = load(f"sqlite:///{Path(folder) / 'bench.db'}", args.billers)
        for run in range(args.runs):
            table += measure(f"SQLite{label(run, args.runs)}", engine, args.repeat)
        engine.dispose()
    try:
        url = create_database()
    except Exception as error:
        print(f"PostgreSQL skipped: {error}")
    else:
        try:
            print("PostgreSQL")
            engine = load(url, args.billers)
            for run in range(args.runs):
                table += measure(f"PostgreSQL{label(run, args.runs)}", engine, args.repeat)
            engine.dispose()
        finally:
            drop_database(url)
    print("\n".join(table))


if __name__ == "__main__":
    main()
