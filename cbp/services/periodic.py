"""The jobs that run on a clock: the reconciler and the sweep of scheduled payments."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from cbp.services import commands as c
from cbp.services.bus import CommandBus
from cbp.services.processing import ReconcilePass

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


class ReconcileInTurn:
    """The reconciler's passes, each starting where the one before stopped.

    One pass asks about a page of processing payments; the next takes the
    page after it, and after the last page it starts again from the oldest.
    However many payments a processor keeps in flight, each is asked about
    within a bounded number of passes.
    """

    def __init__(self, bus: CommandBus, *, page: int = c.ReconcilePayments.limit) -> None:
        self.bus = bus
        self.page = page
        self.after: str | None = None

    def __call__(self) -> None:
        """Run one pass and remember where it stopped."""
        command = c.ReconcilePayments(limit=self.page, after=self.after)
        done: ReconcilePass = self.bus.handle(command)
        self.after = done.resume_after


#: How often delivered messages past their retention are purged.
PURGE_INTERVAL_SECONDS = 3600.0
#: How often the checks issued since the last print run are printed (if checks are printed).
CHECK_PRINT_INTERVAL_SECONDS = 3600.0


def periodic_jobs(
    bus: CommandBus, *, interval_seconds: float, retention_days: float = 7.0
) -> list[Every]:
    """Reconcile, settle, expire, make occurrences, mark bills past due, queue and purge.

    Each in turn: reconcile payments in flight; settle held payments;
    expire micro-deposits; make recurring occurrences; mark bills past due;
    queue due payments; file ACH and mail and expire checks; purge; print checks
    hourly.

    Purging forgets delivered messages past ``retention_days`` and
    Idempotency-Keys past their own retention.

    The sweep queues each payment once its date has come in its tenant's
    time zone. Held payments are settled by their payee's verification
    event; the periodic pass settles any held while that answer committed.
    """
    return [
        Every(interval_seconds, ReconcileInTurn(bus)),
        Every(interval_seconds, lambda: bus.handle(c.SettleHeldPayments())),
        Every(interval_seconds, lambda: bus.handle(c.ExpireMicroDeposits())),
        Every(interval_seconds, lambda: bus.handle(c.MakeDueOccurrences())),
        Every(interval_seconds, lambda: bus.handle(c.MarkBillsPastDue())),
        Every(interval_seconds, lambda: bus.handle(c.QueueDuePayments())),
        Every(interval_seconds, lambda: bus.handle(c.RunAchCutOff())),
        Every(interval_seconds, lambda: bus.handle(c.SweepChecks())),
        Every(
            PURGE_INTERVAL_SECONDS,
            lambda: bus.handle(c.PurgeDeliveredMessages(older_than_days=retention_days)),
        ),
        Every(PURGE_INTERVAL_SECONDS, lambda: bus.handle(c.PurgeExpiredIdempotencyKeys())),
        Every(CHECK_PRINT_INTERVAL_SECONDS, lambda: bus.handle(c.PrintChecks())),
    ]
