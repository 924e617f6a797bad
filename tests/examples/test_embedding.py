"""The embedding example runs as its README says, in a process of its own."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_the_embedding_example_pays_a_bill_and_notifies_through_its_own_adapter() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "embed.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "payment 80.00 USD completed" in lines
    assert "payment 80.13 USD failed" in lines
    assert any(
        line.startswith("notify email: payment pmt_") and line.endswith("(nsf)") for line in lines
    )


def test_the_cbp_demo_command_walks_a_payment_through_every_outcome() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cbp.entrypoints.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    statuses = [
        line.split()[3] for line in result.stdout.splitlines() if line.startswith("payment ")
    ]
    assert statuses == ["completed", "failed", "returned", "completed"]
    assert "job           completed: 3 completed, 1 failed, 0 pending" in result.stdout
