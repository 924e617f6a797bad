"""A tenant's webhook endpoint: where its events go, how they are signed, and its health.

Each tenant has at most one endpoint. Its signing secret can be rotated:
the previous secret keeps signing alongside the new one for an overlap,
so that receivers can switch without dropping a message (Standard Webhooks
carries several signatures in one header). An endpoint that has failed
every delivery for long enough is paused; nothing is sent to it until the
tenant resumes it, and what it missed is sent again then.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cbp.domain.errors import IllegalTransition, InvalidInput

#: Seconds between attempts to deliver one webhook, after the first attempt.
#: Together a little over three days, so that a receiver down over a long
#: weekend misses nothing.
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    10 * 3600,
    24 * 3600,
    24 * 3600,
)

MAX_URL_LENGTH = 2000


class EndpointStatus(enum.StrEnum):
    """Whether events are sent to the endpoint."""

    ACTIVE = "active"
    PAUSED = "paused"


@dataclass(frozen=True, kw_only=True)
class SigningSecret:
    """One secret the endpoint's messages are signed with, until it expires."""

    value: str = field(repr=False)
    expires_at: datetime | None = None

    def valid_at(self, at: datetime) -> bool:
        """Whether messages sent at ``at`` are still signed with it."""
        return self.expires_at is None or at < self.expires_at


def check_url(url: str) -> str:
    """The URL, if it can be an endpoint at all (where it points is checked on send)."""
    if not url.startswith(("https://", "http://")) or len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"url must be an http(s) URL of at most {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise InvalidInput("url must not contain spaces or control characters")
    return url


@dataclass(kw_only=True)
class WebhookEndpoint:
    """Where a tenant's webhooks go, signed with its secrets."""

    id: str
    tenant_id: str
    url: str
    secrets: tuple[SigningSecret, ...] = field(repr=False)
    created_at: datetime
    status: EndpointStatus = EndpointStatus.ACTIVE
    failing_since: datetime | None = None
    paused_at: datetime | None = None

    def __post_init__(self) -> None:
        check_url(self.url)
        if not self.secrets:
            raise InvalidInput("a webhook endpoint needs a signing secret")

    def signing_secrets(self, at: datetime) -> list[str]:
        """Every secret a message sent at ``at`` is signed with, newest first."""
        return [secret.value for secret in self.secrets if secret.valid_at(at)]

    def change_url(self, url: str) -> None:
        """Send to a new URL from now on; its failures so far are forgotten."""
        self.url = check_url(url)
        self.failing_since = None

    def rotate_secret(self, new_secret: str, *, at: datetime, overlap: timedelta) -> None:
        """Sign with ``new_secret`` from now on, and with the current one for ``overlap``."""
        current = [s for s in self.secrets if s.valid_at(at)]
        kept = tuple(
            SigningSecret(
                value=s.value,
                expires_at=at + overlap
                if s.expires_at is None
                else min(s.expires_at, at + overlap),
            )
            for s in current
        )
        self.secrets = (SigningSecret(value=new_secret), *kept)

    def record_delivered(self) -> None:
        """A delivery landed: the endpoint is healthy again."""
        self.failing_since = None

    def record_failed(self, *, at: datetime, pause_after: timedelta) -> bool:
        """A delivery failed; pause once nothing has landed for ``pause_after``.

        Returns whether this failure paused the endpoint.
        """
        if self.failing_since is None:
            self.failing_since = at
        if self.status is EndpointStatus.ACTIVE and at - self.failing_since >= pause_after:
            self.status = EndpointStatus.PAUSED
            self.paused_at = at
            return True
        return False

    def resume(self) -> datetime | None:
        """Send again; returns since when deliveries failed, to send them again."""
        if self.status is not EndpointStatus.PAUSED:
            raise IllegalTransition("webhook endpoint", self.status.value, "resume")
        missed_since = self.failing_since
        self.status = EndpointStatus.ACTIVE
        self.failing_since = None
        self.paused_at = None
        return missed_since


def next_retry(schedule: tuple[float, ...], attempts: int) -> timedelta | None:
    """The wait after failed attempt number ``attempts``, or None when they are spent."""
    if attempts < 1 or attempts > len(schedule):
        return None
    return timedelta(seconds=schedule[attempts - 1])
