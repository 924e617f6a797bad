"""PaymentException: a failed or returned payment that needs attention."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from cbp.domain.errors import IllegalTransition


class ExceptionKind(enum.StrEnum):
    """Why a payment needs attention."""

    NSF = "nsf"
    ACCOUNT_CLOSED = "account_closed"
    INVALID_ACCOUNT = "invalid_account"
    PROCESSOR_ERROR = "processor_error"
    RETURNED = "returned"
    STALE = "stale"
    VALIDATION_FAILED = "validation_failed"

    @classmethod
    def from_failure_code(cls, failure_code: str) -> ExceptionKind:
        """Classify a payment's failure code; unknown codes are processor errors."""
        try:
            return cls(failure_code)
        except ValueError:
            return cls.PROCESSOR_ERROR


class ExceptionStatus(enum.StrEnum):
    """Where an exception is in its handling."""

    OPEN = "open"
    NOTIFIED = "notified"
    RESOLVED = "resolved"


@dataclass(kw_only=True)
class PaymentException:
    """A problem with one payment, tracked until an operator resolves it."""

    id: str
    tenant_id: str
    payment_id: str
    customer_id: str
    kind: ExceptionKind
    reason_code: str
    created_at: datetime
    status: ExceptionStatus = ExceptionStatus.OPEN
    resolved_at: datetime | None = None
    resolution: str | None = None

    def mark_notified(self) -> None:
        """Record that the customer was told; a resolved one stays resolved."""
        if self.status is ExceptionStatus.RESOLVED:
            raise IllegalTransition("exception", self.status.value, "notify")
        self.status = ExceptionStatus.NOTIFIED

    def resolve(self, *, resolution: str, at: datetime) -> None:
        """Close the exception with the operator's resolution."""
        if self.status is ExceptionStatus.RESOLVED:
            raise IllegalTransition("exception", self.status.value, "resolve")
        self.status = ExceptionStatus.RESOLVED
        self.resolution = resolution
        self.resolved_at = at
