"""Cached directory search over HTTP: `cbp serve` against bare Falcon answering from memory.

    .venv/bin/python bench/http_search.py --requests 4000 --clients 8

Both run under gunicorn (one worker) against the same fresh PostgreSQL
database. cbp answers GET /payee/global-payee/name/{text} as it does by
default with Redis as its cache: key check, rate limit, then the directory
cache (the process's recent pages, then Redis), which every repeated search
hits after its first. The baseline answers a page of
20 billers from memory with no key check and no cache lookup: the least a
cache hit can cost. An uncached search is measured in directory_search.py.
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psutil

from cbp.adapters.sql.crypto import FieldCipher

sys.path.insert(0, str(Path(__file__).parent))
from http_payments import (
    HERE,
    Send,
    free_port,
    load_counting_cpu,
    load_with,
    print_table,
    serving,
    serving_processes,
    stop,
    wait_until_up,
)
from redis_keys import forget_prefix
from scratch_database import create_database, drop_database

QUERIES = ("pacific", "water", "gas", "electric", "city")


def search(headers: dict[str, str]) -> Send:
    """GET client ``n``'s ``i``-th search, the five texts in turn."""

    def send(connection: http.client.HTTPConnection, n: int, i: int) -> None:
        query = QUERIES[(n + i) % len(QUERIES)]
        connection.request("GET", f"/payee/global-payee/name/{query}", headers=headers)

    return send


def load(
    port: int, requests: int, clients: int, headers: dict[str, str]
) -> tuple[float, list[float]]:
    """Searches per second and each one's latency (ms), from ``clients`` threads."""
    return load_with(port, requests, clients, search(headers), expect=200)


def main() -> None:
    """Serve each app in turn, load it, print one Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    database = create_database()
    folder = tempfile.TemporaryDirectory()
    home = Path(folder.name)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("CBP_", "BENCH_"))}
    rows = []
    try:
        port = free_port()
        bare = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "--chdir", str(HERE), "-k", "gthread"),
                *("-w", "1", "--threads", "8", "-b", f"127.0.0.1:{port}", "bare_app:app"),
            ],
            env=base_env | {"BENCH_DATABASE_URL": database},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(port, "/payee/global-payee/name/x")
            load(port, 200, args.clients, {})  # NOTE: warm up
            root = psutil.Process(bare.pid)
            rows.append(
                (
                    "bare Falcon, page from memory",
                    *load_counting_cpu(
                        [root, *root.children()],
                        lambda: load(port, args.requests, args.clients, {}),
                        args.requests,
                    ),
                )
            )
        finally:
            stop(bare)
        env = base_env | {
            "CBP_DATABASE_URL": database,
            "CBP_AUTO_MIGRATE": "true",
            "CBP_DEMO_SEED": "true",
            "CBP_API_KEY_SECRET": "bench",
            "CBP_ENCRYPTION_KEYS": FieldCipher.generate_key(),
            "CBP_RATE_LIMIT": "100000000",
            "CBP_LOG_LEVEL": "WARNING",
            "CBP_BROKER_URL": "redis://127.0.0.1:6379/0",
            "CBP_CACHE_URL": "redis://127.0.0.1:6379/0",
            "CBP_REDIS_PREFIX": f"bench{uuid.uuid4().hex[:8]}:",
        }
        try:
            with serving(env, home) as port:
                key = next(
                    line
                    for line in (home / "serve.out").read_text().splitlines()
                    if line.startswith("key_")
                )
                headers = {"Authorization": f"Bearer {key}"}
                load(port, 200, args.clients, headers)  # NOTE: fills the cache
                rows.append(
                    (
                        "cbp serve, cached",
                        *load_counting_cpu(
                            serving_processes(port),
                            lambda: load(port, args.requests, args.clients, headers),
                            args.requests,
                        ),
                    )
                )
        finally:
            forget_prefix(env["CBP_BROKER_URL"], env["CBP_REDIS_PREFIX"])
    finally:
        drop_database(database)
        folder.cleanup()
    print_table(rows)


if __name__ == "__main__":
    main()
