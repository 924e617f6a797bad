"""An in-process message broker, for the embedded default and tests."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from cbp.ports.messages import Delivery, Message


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
