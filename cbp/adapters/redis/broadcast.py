"""Announcements to every process over Redis pub/sub."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import redis

logger = logging.getLogger("cbp.broadcast")


class RedisBroadcast:
    """Announces a subject on its topic's channel; every listening process hears it at once.

    A listener runs in a daemon thread of its own. When its connection drops
    it reconnects and reports ``None``, as announcements may have been missed
    meanwhile, so the listener forgets everything it holds.
    """

    def __init__(self, client: redis.Redis, *, topic: str, prefix: str = "cbp:") -> None:
        self.client = client
        self.topic = topic
        self.channel = f"{prefix}{topic}"

    def announce(self, subject: str) -> None:
        """Publish the subject; a Redis outage is logged, as listeners forget everything anyway."""
        try:
            self.client.publish(self.channel, subject)
        except redis.RedisError as error:
            logger.warning(
                "change not announced", extra={"topic": self.topic, "error": type(error).__name__}
            )

    def listen(self, on_heard: Callable[[str | None], None]) -> None:
        """Start a daemon thread that calls ``on_heard`` for every subject announced."""
        threading.Thread(
            target=self._listen, args=(on_heard,), name=f"cbp-{self.topic}", daemon=True
        ).start()

    def _listen(self, on_heard: Callable[[str | None], None]) -> None:
        while True:
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                on_heard(None)  # NOTE: anything announced before now may have been missed
                while True:
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "message":
                        on_heard(bytes(message["data"]).decode())
            except redis.RedisError:
                threading.Event().wait(1.0)  # NOTE: Redis is down: try again in a second
