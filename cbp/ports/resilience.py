"""Resilience around outbound calls: breaker state and the call policy clients use."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

T = TypeVar("T")


class BreakerState(enum.StrEnum):
    """Closed lets calls through, open refuses them, half-open lets one probe through."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, kw_only=True)
class BreakerSnapshot:
    """A breaker's shared state: what it is, consecutive failures, since when open."""

    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float | None = None
    probe_until: float | None = None


def after_failure(current: BreakerSnapshot, *, threshold: int, now: float) -> BreakerSnapshot:
    """The state after a failed call: a failed probe, or ``threshold`` in a row, opens."""
    failures = current.failures + 1
    if current.state is BreakerState.HALF_OPEN or (
        current.state is BreakerState.CLOSED and failures >= threshold
    ):
        return BreakerSnapshot(state=BreakerState.OPEN, failures=failures, opened_at=now)
    return BreakerSnapshot(
        state=current.state,
        failures=failures,
        opened_at=current.opened_at,
        probe_until=current.probe_until,
    )


def after_probe_claim(
    current: BreakerSnapshot, *, reset_after: float, probe_timeout: float, now: float
) -> BreakerSnapshot | None:
    """The half-open state if a probe may go now, else None (someone else holds it)."""
    if current.state is BreakerState.CLOSED:
        return current
    if current.state is BreakerState.OPEN and now < (current.opened_at or 0) + reset_after:
        return None
    if current.state is BreakerState.HALF_OPEN and now < (current.probe_until or 0):
        return None
    return BreakerSnapshot(
        state=BreakerState.HALF_OPEN,
        failures=current.failures,
        opened_at=current.opened_at,
        probe_until=now + probe_timeout,
    )


class BreakerStore(Protocol):
    """Where breakers keep their state, so every process sees the same one."""

    def load(self, name: str) -> BreakerSnapshot:
        """The breaker's state now (closed with no failures if never seen)."""
        ...

    def record_failure(self, name: str, *, threshold: int, now: float) -> BreakerSnapshot:
        """Count a failure; at ``threshold`` consecutive failures, or in half-open, open."""
        ...

    def record_success(self, name: str) -> BreakerSnapshot:
        """Reset the failure count and close the breaker."""
        ...

    def try_probe(self, name: str, *, reset_after: float, probe_timeout: float, now: float) -> bool:
        """Claim the single half-open probe once the breaker has been open long enough.

        At most one caller, in any process, holds the probe at a time; a probe
        not reported within ``probe_timeout`` may be claimed again.
        """
        ...

    def names(self) -> list[str]:
        """Every breaker this store has state for."""
        ...


class OutboundCall(Protocol):
    """Runs a call to one named dependency with its timeouts, retries, breaker and bulkhead.

    ``operation`` receives the base URL of the instance chosen for this try.
    ``retryable`` says whether a repeat is safe (a read, or a write carrying
    an idempotency key). Raises ``DependencyDeferred`` when no instance may be
    called now, and the last ``DependencyError`` when every try failed.
    """

    def __call__(self, operation: Callable[[str], T], *, retryable: bool) -> T:
        """Run ``operation`` against an instance of the dependency."""
        ...
