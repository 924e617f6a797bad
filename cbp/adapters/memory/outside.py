"""In-memory fakes of the outside world: clock, cache, notifiers, broker."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cbp.domain.errors import InvalidInput
from cbp.domain.notification import Notification
from cbp.domain.webhook_endpoint import WebhookEndpoint
from cbp.ports.errors import DeliveryRejected, DependencyUnavailable
from cbp.ports.messages import Delivery, Message
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


class InMemoryNotifier:
    """Records what it sends; can be told to fail for some recipients, or to be down."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []
        self.failing_recipients: set[str] = set()
        self.down = False

    def send(self, notification: Notification) -> None:
        """Record the notification, or refuse it (or be down) like a real provider."""
        if self.down:
            raise DependencyUnavailable("memory", "the provider is not answering")
        if not notification.recipient or notification.recipient in self.failing_recipients:
            raise DeliveryRejected("memory", "recipient refused the message")
        self.sent.append(notification)


class InMemoryWebhookSender:
    """Records what it would POST, with the signatures; can be told an endpoint is down."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Notification, list[str]]] = []
        self.failing_urls: set[str] = set()

    def vet(self, url: str) -> None:
        """Refuse what the real sender refuses by name (the address is not resolved)."""
        if "localhost" in url or "169.254." in url:
            raise InvalidInput("url refused: the webhook URL resolves to an internal address")

    def send(self, endpoint: WebhookEndpoint, notification: Notification, *, at: datetime) -> None:
        """Record the delivery, or fail like an endpoint that is down."""
        if endpoint.url in self.failing_urls:
            raise DeliveryRejected("webhook", "the endpoint answered 503")
        self.sent.append((endpoint.url, notification, endpoint.signing_secrets(at)))


@dataclass
class InMemoryBroker:
    """An in-process broker: queues leased deliveries until ``drain`` runs them.

    Like any broker it may be lost with the process; the delivery rows and
    their leases, not this queue, are the record of what is owed.
    """

    sent: list[Delivery] = field(default_factory=list)
    _queue: deque[list[Delivery]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, delivery: Delivery) -> None:
        """Queue a delivery for the in-process consumer."""
        self.send_together([delivery])

    def send_together(self, deliveries: list[Delivery]) -> None:
        """Queue deliveries to be consumed together, in one call."""
        with self._lock:
            self.sent.extend(deliveries)
            self._queue.append(deliveries)

    def ping(self) -> None:
        """Always reachable: it lives in this process."""

    def drain(self, consume: Callable[..., object], *, stop: threading.Event | None = None) -> int:
        """Run every delivery queued now, by id, until ``stop`` is set; return how many ran.

        ``consume`` gets the ids sent together (one, unless sent together).
        A delivery left when stopping stays leased; its lease brings it back.
        """
        ran = 0
        while not (stop is not None and stop.is_set()):
            with self._lock:
                if not self._queue:
                    break
                deliveries = self._queue.popleft()
            consume(*(delivery.id for delivery in deliveries))
            ran += len(deliveries)
        return ran

    @property
    def messages(self) -> list[Message]:
        """Each message sent at least once, in the order first sent."""
        with self._lock:
            unique = {d.message.message_id: d.message for d in self.sent}
        return list(unique.values())

    @property
    def queued(self) -> int:
        """How many deliveries are waiting."""
        with self._lock:
            return sum(len(together) for together in self._queue)


class InProcessKeyRevocations:
    """Key revocations within one process: every listener is called at once."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[str | None], None]] = []
        self._lock = threading.Lock()

    def announce(self, key_id: str) -> None:
        """Tell this process's listeners."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(key_id)

    def listen(self, on_revoked: Callable[[str | None], None]) -> None:
        """Be told of every key announced from now on."""
        with self._lock:
            self._listeners.append(on_revoked)
