"""The embedded default processor: outcomes chosen by the amount's cents.

| cents | outcome                                             |
|-------|-----------------------------------------------------|
| .13   | failed, ``nsf``                                     |
| .14   | settles, then is returned (``R01``)                 |
| .15   | failed, ``account_closed``                          |
| .16   | failed, ``invalid_account``                         |
| .17   | the submission times out (outcome unknown, but the  |
|       | processor did take it)                              |
| .18   | unavailable on the first attempt, then accepted     |
| other | accepted, settled after ``settle_after_seconds``    |

Submissions are idempotent on the reference: a repeat returns the first
answer and never counts as a second movement of money.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from cbp.ports.errors import DependencyTimeout, DependencyUnavailable
from cbp.ports.outside import ProcessorResult, ProcessorStatus, Submission
from cbp.ports.system import Clock

_FAILURES = {13: "nsf", 15: "account_closed", 16: "invalid_account"}


@dataclass
class _Accepted:
    submission: Submission
    at: datetime
    outcome: ProcessorStatus
    failure_code: str | None = None


class SimulatedPaymentProcessor:
    """Deterministic processor for demos and tests; records every submission."""

    def __init__(self, clock: Clock, *, settle_after_seconds: float = 0.0) -> None:
        self.clock = clock
        self.settle_after = timedelta(seconds=settle_after_seconds)
        self.submissions: Counter[str] = Counter()
        self._accepted: dict[str, _Accepted] = {}
        self._refused_once: set[str] = set()
        self._lock = threading.Lock()

    def submit(self, submission: Submission) -> ProcessorResult:
        """Accept (or refuse) a submission; repeats return the first answer."""
        cents = submission.amount.minor % 100
        with self._lock:
            self.submissions[submission.reference] += 1
            if submission.reference in self._accepted:
                return self._result(self._accepted[submission.reference])
            if cents == 18 and submission.reference not in self._refused_once:
                self._refused_once.add(submission.reference)
                raise DependencyUnavailable("processor", "simulated outage")
            accepted = _Accepted(submission, self.clock.now(), ProcessorStatus.SETTLED)
            if cents in _FAILURES:
                accepted.outcome = ProcessorStatus.FAILED
                accepted.failure_code = _FAILURES[cents]
            elif cents == 14:
                accepted.outcome = ProcessorStatus.RETURNED
                accepted.failure_code = "R01"
            self._accepted[submission.reference] = accepted
        if cents == 17:
            raise DependencyTimeout("processor", "simulated timeout")
        return self._result(accepted)

    def outcome(self, reference: str) -> ProcessorResult:
        """The submission's outcome now, or UNKNOWN for a reference never taken."""
        with self._lock:
            accepted = self._accepted.get(reference)
        if accepted is None:
            return ProcessorResult(reference=reference, status=ProcessorStatus.UNKNOWN)
        return self._result(accepted)

    @property
    def distinct_submissions(self) -> int:
        """How many different payments were submitted."""
        return len(self.submissions)

    def _result(self, accepted: _Accepted) -> ProcessorResult:
        reference = accepted.submission.reference
        if accepted.outcome is ProcessorStatus.FAILED:
            return ProcessorResult(
                reference=reference,
                status=ProcessorStatus.FAILED,
                failure_code=accepted.failure_code,
                reason="declined by the simulated bank",
            )
        if self.clock.now() < accepted.at + self.settle_after:
            return ProcessorResult(reference=reference, status=ProcessorStatus.ACCEPTED)
        if accepted.outcome is ProcessorStatus.RETURNED:
            return ProcessorResult(
                reference=reference,
                status=ProcessorStatus.RETURNED,
                failure_code=accepted.failure_code,
                reason="no account / unable to locate account",
            )
        return ProcessorResult(reference=reference, status=ProcessorStatus.SETTLED)
