"""A real `cbp simulator serve` process on a free port, with its admin endpoints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.server import free_port, stop


@dataclass
class Simulator:
    """The simulator's base URL and a client for its admin endpoints."""

    base_url: str

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.loads(reply.read())

    def faults(self, **faults: Any) -> Any:
        return self.admin("PUT", "/_admin/faults", faults)


@contextmanager
def running_simulator(
    home: Path,
    port: int | None = None,
    *args: str,
    env: dict[str, str] | None = None,
) -> Iterator[Simulator]:
    """`cbp simulator serve` with its ledger in ``home``; stopped afterwards."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CBP_")} | (env or {})
    log = home / f"simulator-{port}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cbp.entrypoints.cli",
                "simulator",
                "serve",
                "--port",
                str(port),
                "--ledger",
                str(home / "simulator.db"),
                *args,
            ],
            cwd=home,
            env=env,
            stdout=out,
            stderr=out,
        )
    simulator = Simulator(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                simulator.admin("GET", "/_admin/faults")
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(f"no simulator: {log.read_text()[-3000:]}") from None
                time.sleep(0.1)
        yield simulator
    finally:
        stop(process, timeout=10)
