"""In-memory fakes of the outside world: clock, cache, limiter, notifier, broker."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cbp.domain.notification import Notification
from cbp.ports.errors import DeliveryRejected
from cbp.ports.messages import Message
from cbp.ports.outside import RateLimitDecision
from cbp.ports.system import Clock


class InMemoryClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 2, 14, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """The current (fake) instant."""
        return self.current

    def advance(self, **delta: float) -> None:
        """Move time forward, e.g. ``advance(days=1)``."""
        self.current += timedelta(**delta)


class SequentialIdGenerator:
    """Readable ids in creation order: ``pmt_000001``, ``pmt_000002``..."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        """The next id for ``prefix``."""
        with self._lock:
            self._count += 1
            return f"{prefix}_{self._count:012d}"


class InMemoryCache:
    """A TTL cache in one process's memory."""

    def __init__(self, clock: Clock, *, max_entries: int = 10_000) -> None:
        self.clock = clock
        self.max_entries = max_entries
        self._entries: dict[str, tuple[datetime, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The cached value, if it has not expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires <= self.clock.now():
                del self._entries[key]
                return None
            return value

    def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        """Cache ``value``; the oldest entry makes room when full."""
        with self._lock:
            if key not in self._entries and len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (self.clock.now() + timedelta(seconds=ttl_seconds), value)

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._entries.pop(key, None)


class InMemoryRateLimiter:
    """Fixed-window counters per key in one process's memory."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, *, limit: int, window_seconds: float) -> RateLimitDecision:
        """Count one call in the current window."""
        now = self.clock.now().timestamp()
        window = int(now // window_seconds)
        with self._lock:
            current, count = self._windows.get(key, (window, 0))
            if current != window:
                count = 0
            count += 1
            self._windows[key] = (window, count)
        reset = (window + 1) * window_seconds - now
        return RateLimitDecision(
            allowed=count <= limit,
            limit=limit,
            remaining=max(0, limit - count),
            reset_seconds=math.ceil(reset),
        )


class InMemoryNotifier:
    """Records what it sends; can be told to fail for some recipients."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []
        self.failing_recipients: set[str] = set()

    def send(self, notification: Notification) -> None:
        """Record the notification, or refuse it like a real provider would."""
        if not notification.recipient or notification.recipient in self.failing_recipients:
            raise DeliveryRejected("memory", "recipient refused the message")
        self.sent.append(notification)


@dataclass
class InMemoryBroker:
    """An in-process broker for tasks and events, with retries and dead letters.

    ``drain`` delivers queued messages to a consumer synchronously. A
    message whose consumer raises is queued again until ``max_attempts``,
    then kept in ``dead_letters``.
    """

    max_attempts: int = 5
    enqueued: list[Message] = field(default_factory=list)
    published: list[Message] = field(default_factory=list)
    dead_letters: list[tuple[Message, str]] = field(default_factory=list)
    _queue: deque[tuple[Message, int]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enqueue(self, message: Message) -> None:
        """Queue a task."""
        with self._lock:
            self.enqueued.append(message)
            self._queue.append((message, 1))

    def publish(self, message: Message) -> None:
        """Queue an event for its subscribers."""
        with self._lock:
            self.published.append(message)
            self._queue.append((message, 1))

    def drain(self, consume: Callable[[Message], None]) -> int:
        """Deliver what is queued now; return how many deliveries were made."""
        with self._lock:
            batch, self._queue = list(self._queue), deque()
        for message, attempt in batch:
            try:
                consume(message)
            except Exception as error:  # NOTE: any failure is retried, as a broker would
                with self._lock:
                    if attempt >= self.max_attempts:
                        self.dead_letters.append((message, f"{type(error).__name__}: {error}"))
                    else:
                        self._queue.append((message, attempt + 1))
        return len(batch)

    @property
    def queued(self) -> int:
        """How many deliveries are waiting."""
        with self._lock:
            return len(self._queue)
