"""Failures of dependencies, as adapters report them to the core."""

from __future__ import annotations


class DependencyError(Exception):
    """An external dependency failed; the core decides whether to retry."""

    code = "dependency_error"

    def __init__(self, dependency: str, detail: str) -> None:
        super().__init__(f"{dependency}: {detail}")
        self.dependency = dependency
        self.detail = detail


class DependencyUnavailable(DependencyError):
    """The dependency refused or could not be reached: nothing happened there."""

    code = "dependency_unavailable"


class DependencyTimeout(DependencyError):
    """The dependency did not answer in time: the outcome is unknown."""

    code = "dependency_timeout"


class DependencyDeferred(DependencyError):
    """The call was not made (a breaker is open, a bulkhead is full): try again later.

    Deferral is not failure: the work waits ``retry_after`` seconds and
    does not spend a delivery's attempts.
    """

    code = "dependency_deferred"

    def __init__(self, dependency: str, detail: str, *, retry_after: float = 1.0) -> None:
        super().__init__(dependency, detail)
        self.retry_after = retry_after


class DeliveryRejected(DependencyError):
    """A notification provider refused the message (a bad address, say)."""

    code = "delivery_rejected"


class PaymentRefused(DependencyError):
    """The processor answered and will never take this submission (a 4xx of its protocol).

    Not an outage: retrying the same submission gets the same answer, so
    the payment fails and an exception is opened for someone to look at.
    """

    code = "processor_refused"
