"""One reusable policy per dependency: discovery, bulkhead, breaker per instance, retries.

Each concern is a small piece, composed here in one order: retries (with
an overall deadline) around a bulkhead slot, around the choice of an
instance whose breaker admits the call, around the client's own timed call.
A failed try moves on to the next instance, so traffic leaves a dead one at
once and its breaker keeps it out until a probe succeeds.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from cbp.adapters.resilience.breaker import BreakerSettings, CircuitBreaker, StateListener
from cbp.adapters.resilience.bulkhead import Bulkhead
from cbp.ports.errors import (
    DependencyDeferred,
    DependencyError,
    DependencyTimeout,
    DependencyUnavailable,
)
from cbp.ports.resilience import BreakerSnapshot, BreakerStore

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class RetrySettings:
    """How often and how long to retry a safe call: full-jitter exponential back-off."""

    attempts: int = 3
    base_seconds: float = 0.2
    max_seconds: float = 2.0
    deadline_seconds: float = 10.0


class ResilientDependency:
    """Calls one named dependency through its instances, with every guard around it."""

    def __init__(
        self,
        name: str,
        *,
        endpoints: Callable[[], list[str]],
        store: BreakerStore,
        breaker: BreakerSettings,
        bulkhead: Bulkhead,
        retry: RetrySettings,
        on_change: StateListener | None = None,
    ) -> None:
        self.name = name
        self.endpoints = endpoints
        self.store = store
        self.breaker_settings = breaker
        self.bulkhead = bulkhead
        self.retry = retry
        self.on_change = on_change
        self._turn = itertools.count()
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def __call__(self, operation: Callable[[str], T], *, retryable: bool) -> T:
        """Run ``operation`` on an instance; retry on the next one only if safe."""
        if not retryable:
            return self._once(operation)
        r = self.retry
        retrying = Retrying(
            stop=stop_after_attempt(r.attempts) | stop_after_delay(r.deadline_seconds),
            wait=wait_random_exponential(multiplier=r.base_seconds, max=r.max_seconds),
            retry=retry_if_exception_type((DependencyUnavailable, DependencyTimeout)),
            reraise=True,
        )
        result: T = retrying(self._once, operation)
        return result

    def breaker(self, instance: str) -> CircuitBreaker:
        """The breaker of one instance (one per dependency and instance)."""
        with self._lock:
            if instance not in self._breakers:
                self._breakers[instance] = CircuitBreaker(
                    f"{self.name}@{instance}",
                    store=self.store,
                    settings=self.breaker_settings,
                    on_change=self.on_change,
                )
            return self._breakers[instance]

    def _once(self, operation: Callable[[str], T]) -> T:
        instances = self.endpoints()
        if not instances:
            raise DependencyUnavailable(self.name, "no instance is known")
        start = next(self._turn) % len(instances)
        deferred: DependencyDeferred | None = None
        with self.bulkhead.slot():
            for instance in instances[start:] + instances[:start]:
                breaker = self.breaker(instance)
                try:
                    admitted = breaker.admit()
                except DependencyDeferred as refused:
                    deferred = refused if deferred is None else deferred
                    continue
                return self._guarded(breaker, admitted, operation, instance)
        assert deferred is not None
        raise DependencyDeferred(
            self.name,
            "every instance's circuit breaker is open",
            retry_after=deferred.retry_after,
        )

    @staticmethod
    def _guarded(
        breaker: CircuitBreaker,
        admitted: BreakerSnapshot,
        operation: Callable[[str], T],
        instance: str,
    ) -> T:
        try:
            result = operation(instance)
        except (DependencyUnavailable, DependencyTimeout):
            breaker.failed()
            raise
        except DependencyError:
            breaker.succeeded(admitted)  # NOTE: a refusal (4xx) is an answer: the instance is up
            raise
        except BaseException:
            breaker.failed()
            raise
        breaker.succeeded(admitted)
        return result
