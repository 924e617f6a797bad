"""Circuit breaker state in this process: the embedded default."""

from __future__ import annotations

import threading

from cbp.ports.resilience import (
    BreakerSnapshot,
    after_failure,
    after_probe_claim,
)


class InMemoryBreakerStore:
    """Breaker states in a dict; the lock guards each update, never a call."""

    def __init__(self) -> None:
        self._states: dict[str, BreakerSnapshot] = {}
        self._lock = threading.Lock()

    def load(self, name: str) -> BreakerSnapshot:
        """The breaker's state now."""
        return self._states.get(name, BreakerSnapshot())

    def record_failure(self, name: str, *, threshold: int, now: float) -> BreakerSnapshot:
        """Count a failure; open at the threshold or on a failed probe."""
        with self._lock:
            state = after_failure(self.load(name), threshold=threshold, now=now)
            self._states[name] = state
            return state

    def record_success(self, name: str) -> BreakerSnapshot:
        """Close the breaker."""
        with self._lock:
            self._states[name] = BreakerSnapshot()
            return self._states[name]

    def try_probe(self, name: str, *, reset_after: float, probe_timeout: float, now: float) -> bool:
        """Claim the half-open probe if it is free and the wait is over."""
        with self._lock:
            claimed = after_probe_claim(
                self.load(name), reset_after=reset_after, probe_timeout=probe_timeout, now=now
            )
            if claimed is None:
                return False
            self._states[name] = claimed
            return True

    def names(self) -> list[str]:
        """Every breaker with state here."""
        return sorted(self._states)
