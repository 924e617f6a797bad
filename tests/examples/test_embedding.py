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
