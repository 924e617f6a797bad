"""A deployment of real processes for end-to-end tests: the API, a relay and workers."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cbp.services.routing import broker_queues
from tests.brokers import broker_url, remove_queues, unique_prefix
from tests.e2e.server import Server, postgres_and_redis_env, running_server

QUEUES = broker_queues()

FAST = {
    "CBP_DELIVERY_LEASE_SECONDS": "12",  # NOTE: a loaded machine still answers within it
    "CBP_DELIVERY_RETRY_BASE_SECONDS": "0.2",
    "CBP_DELIVERY_RETRY_MAX_SECONDS": "2",
    "CBP_RECONCILE_INTERVAL_SECONDS": "1",
    "CBP_RELAY_INTERVAL_SECONDS": "0.05",
    "CBP_PUMP_INTERVAL_SECONDS": "0.05",
    "CBP_RATE_LIMIT": "1000000",
    "CBP_WORKER_THREADS": "4",
}


@dataclass
class Deployment:
    """The API and, with a real broker, a relay and workers, all real processes."""

    home: Path
    env: dict[str, str]
    server: Server
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> None:
        with (self.home / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "cbp.entrypoints.cli", *args],
                cwd=self.home,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self, name: str, signum: int = signal.SIGTERM) -> int:
        process = self.processes.pop(name)
        process.send_signal(signum)
        return process.wait(timeout=60)

    def stop_all(self) -> None:
        for name, process in list(self.processes.items()):
            try:
                self.stop(name)
            except subprocess.TimeoutExpired:
                process.kill()

    def traceparent_at_processor(self, reference: str) -> str | None:
        """The trace context the processor was called with for this reference."""
        with sqlite3.connect(self.home / "processor.sqlite3") as db:
            row = db.execute(
                "SELECT traceparent FROM submissions WHERE reference = ?", (reference,)
            ).fetchone()
        return None if row is None else row[0]

    def log_records(self, name: str) -> list[dict[str, Any]]:
        """The JSON lines a process wrote to its log."""
        lines = (self.home / f"{name}.log").read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def ledger(self) -> dict[str, tuple[int, bool]]:
        """The simulated processor's books: attempts and acceptance per reference."""
        with sqlite3.connect(self.home / "processor.sqlite3") as db:
            rows = db.execute("SELECT reference, attempts, accepted_at FROM submissions")
            return {ref: (attempts, accepted is not None) for ref, attempts, accepted in rows}


@contextmanager
def deployment(
    home: Path,
    kind: str,
    settings: dict[str, str] | None = None,
    *,
    services: tuple[str, ...] = (),
) -> Iterator[Deployment]:
    """``kind``: rabbitmq or redis (PostgreSQL, relay and worker processes), or embedded."""
    ledger = {"CBP_PROCESSOR_LEDGER_PATH": str(home / "processor.sqlite3")} | (settings or {})
    if kind == "embedded":
        with running_server(home, FAST | ledger) as server:
            yield Deployment(home, server.env, server)
        return
    prefix = unique_prefix()
    url = broker_url(kind)
    with postgres_and_redis_env() as env:
        env |= FAST | ledger | {"CBP_BROKER_URL": url, "CBP_QUEUE_PREFIX": prefix}
        if kind == "redis":
            env["CBP_REDIS_PREFIX"] = prefix
        try:
            with running_server(home, env) as server:
                running = Deployment(home, server.env, server)
                running.start("relay", "relay")
                for service in services or (None,):  # NOTE: one worker per named service
                    extra = ("--service", service) if service else ()
                    running.start(f"worker-{service}" if service else "worker", "worker", *extra)
                try:
                    yield running
                finally:
                    running.stop_all()
        finally:
            # NOTE: on Redis every key of the run starts with the prefix (queues, heartbeats,
            # the directory's generation, breakers), whatever cbp puts after it
            remove_queues(url, prefix, QUEUES)
