"""Progress on long commands: a bar on a terminal, a line per 10% elsewhere."""

from __future__ import annotations

import sys
from typing import TextIO


class ProgressBar:
    """Shows ``done/total`` for one task on standard error."""

    def __init__(self, label: str, *, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self._last_decile = -1

    def __call__(self, done: int, total: int) -> None:
        """Report that ``done`` of ``total`` items are through."""
        fraction = done / total if total else 1.0
        if self.interactive:
            filled = int(fraction * 30)
            bar = "#" * filled + "-" * (30 - filled)
            self.stream.write(f"\r{self.label:<12} [{bar}] {done}/{total} {fraction:4.0%}")
            if done >= total:
                self.stream.write("\n")
        elif (decile := int(fraction * 10)) != self._last_decile:
            self._last_decile = decile
            self.stream.write(f"{self.label}: {done}/{total} ({fraction:.0%})\n")
        self.stream.flush()
