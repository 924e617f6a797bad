"""The README's walkthrough, run as written against a fresh ``scripts/run``."""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.server import free_port, stop

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> str:
    """The one bash block of the README's walkthrough section."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## A five-minute walkthrough", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, re.S)
    return block


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=5) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def test_the_walkthrough_pays_a_bill_to_its_end_on_any_day(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CBP_")} | {
        "CBP_DATABASE_URL": f"sqlite:///{tmp_path / 'cbp.db'}",
        "CBP_PORT": str(port),
    }
    with (tmp_path / "run.out").open("wb") as out, (tmp_path / "run.log").open("wb") as log:
        served = subprocess.Popen([str(ROOT / "scripts" / "run")], env=env, stdout=out, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while not (keys := re.findall(r"^key_\S+", (tmp_path / "run.out").read_text(), re.M)):
            assert served.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "scripts/run printed no key"
            time.sleep(0.2)
        while not ready(port):
            assert served.poll() is None and time.monotonic() < deadline, "scripts/run never ready"
            time.sleep(0.2)
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", walkthrough()],
            env=env | {"CBP_URL": f"http://127.0.0.1:{port}", "KEY": keys[-1]},
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        stop(served)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-4:] == [
        "PaymentCreated",
        "PaymentValidated",
        "PaymentProcessed",
        "PaymentCompleted",
    ], done.stdout
