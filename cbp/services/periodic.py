"""The jobs that run on a clock: the reconciler and the sweep of scheduled payments."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from cbp.services import commands as c
from cbp.services.bus import CommandBus

logger = logging.getLogger("cbp.periodic")


class Every:
    """Runs a job when its interval has passed since its last run."""

    def __init__(self, seconds: float, job: Callable[[], object]) -> None:
        self.seconds = seconds
        self.job = job
        self.next_at = 0.0

    def tick(self) -> None:
        """Run the job if it is due; a failure is logged and tried next interval."""
        now = time.monotonic()
        if now < self.next_at:
            return
        self.next_at = now + self.seconds
        try:
            self.job()
        except Exception:  # NOTE: a periodic job must never stop its loop
            logger.exception("periodic job failed")


def periodic_jobs(bus: CommandBus, *, interval_seconds: float) -> list[Every]:
    """Reconcile payments of unknown outcome; queue scheduled payments on their date.

    The sweep queues each payment once its date has come in its tenant's
    time zone.
    """
    return [
        Every(interval_seconds, lambda: bus.handle(c.ReconcilePayments())),
        Every(interval_seconds, lambda: bus.handle(c.QueueDuePayments())),
    ]
