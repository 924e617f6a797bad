"""Notification: a message to a customer and the story of its delivery."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cbp.domain.customer import Channel
from cbp.domain.errors import IllegalTransition


class NotificationStatus(enum.StrEnum):
    """Delivery state; ``dead`` means every attempt failed."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"


@dataclass(kw_only=True)
class Notification:
    """One message on one channel, retried until it lands.

    Most go to a customer; a few go to the tenant itself (``customer_id``
    is None), such as word that its webhook endpoint was paused.
    """

    id: str
    tenant_id: str
    customer_id: str | None
    channel: Channel
    recipient: str | None = field(repr=False)
    template: str
    payload: dict[str, Any]
    created_at: datetime
    exception_id: str | None = None
    status: NotificationStatus = NotificationStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None

    @property
    def is_settled(self) -> bool:
        """Whether delivery is over, for better or worse."""
        return self.status in (NotificationStatus.SENT, NotificationStatus.DEAD)

    def record_sent(self, *, at: datetime) -> None:
        """The provider accepted the message."""
        self._check_open("record a delivery for")
        self.attempts += 1
        self.status = NotificationStatus.SENT
        self.sent_at = at
        self.last_error = None

    def record_failure(self, *, error: str, max_attempts: int) -> None:
        """An attempt failed; after ``max_attempts`` the notification is dead."""
        self._check_open("record a failure for")
        self.attempts += 1
        self.last_error = error
        self.status = (
            NotificationStatus.DEAD if self.attempts >= max_attempts else NotificationStatus.FAILED
        )

    def reopen(self) -> None:
        """Deliver again from the start (a replay); its id stays, so receivers de-duplicate."""
        self.status = NotificationStatus.PENDING
        self.attempts = 0
        self.last_error = None
        self.sent_at = None

    def _check_open(self, action: str) -> None:
        if self.is_settled:
            raise IllegalTransition("notification", self.status.value, action)
