"""A circuit breaker whose state lives in a shared store, never held across a call.

pybreaker holds its lock for the whole protected call, which serialises
every concurrent call through a closed breaker. Here the store is touched
only before a call (may it go?) and after it (what came of it?), so calls
through a closed breaker overlap freely; only the half-open probe is
exclusive, claimed atomically in the store by one caller in any process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from cbp.ports.errors import DependencyDeferred
from cbp.ports.resilience import BreakerSnapshot, BreakerState, BreakerStore

logger = logging.getLogger("cbp.resilience")

#: Told of each change of a breaker's state: (breaker name, old state, new state).
StateListener = Callable[[str, BreakerState, BreakerState], None]


@dataclass(frozen=True, kw_only=True)
class BreakerSettings:
    """When a breaker opens and how long it waits before probing."""

    failure_threshold: int = 5
    reset_after_seconds: float = 30.0
    probe_timeout_seconds: float = 30.0


class CircuitBreaker:
    """Fails fast while a dependency instance is known to be down."""

    def __init__(
        self,
        name: str,
        *,
        store: BreakerStore,
        settings: BreakerSettings,
        on_change: StateListener | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.store = store
        self.settings = settings
        self.on_change = on_change
        self.now = now

    def state(self) -> BreakerSnapshot:
        """The shared state now."""
        return self.store.load(self.name)

    def admit(self) -> BreakerSnapshot:
        """Let a call go, or raise ``DependencyDeferred`` while the breaker is open.

        Returns the state the call was let through in, for ``succeeded``.
        """
        before = self.store.load(self.name)
        if before.state is BreakerState.CLOSED:
            return before
        s = self.settings
        if self.store.try_probe(
            self.name,
            reset_after=s.reset_after_seconds,
            probe_timeout=s.probe_timeout_seconds,
            now=self.now(),
        ):
            self._changed(before.state, BreakerState.HALF_OPEN)
            return replace(before, state=BreakerState.HALF_OPEN)
        opened_at = before.opened_at or self.now()
        wait = max(0.1, opened_at + s.reset_after_seconds - self.now())
        raise DependencyDeferred(self.name, "circuit breaker open", retry_after=wait)

    def succeeded(self, admitted: BreakerSnapshot) -> None:
        """The call got an answer: close the breaker (``admitted``: what ``admit`` saw)."""
        if admitted.state is BreakerState.CLOSED and admitted.failures == 0:
            return  # NOTE: the common case: no read and no write after the call
        before = self.store.load(self.name)
        after = self.store.record_success(self.name)
        self._changed(before.state, after.state)

    def failed(self) -> None:
        """The call got no answer (refused, reset, timed out, 5xx): count it."""
        before = self.store.load(self.name)
        after = self.store.record_failure(
            self.name, threshold=self.settings.failure_threshold, now=self.now()
        )
        self._changed(before.state, after.state)

    def _changed(self, old: BreakerState, new: BreakerState) -> None:
        if old is new:
            return
        logger.warning(
            "circuit breaker changed state",
            extra={"breaker": self.name, "from": old.value, "to": new.value},
        )
        if self.on_change is not None:
            try:
                self.on_change(self.name, old, new)
            except Exception:  # NOTE: telling others must never break the call path
                logger.exception("breaker state listener failed", extra={"breaker": self.name})
