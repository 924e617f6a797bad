"""Key revocations broadcast to every process over Redis pub/sub."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import redis

logger = logging.getLogger("cbp.keys")


class RedisKeyRevocations:
    """Announces a key's id on a channel; each listening process hears it within milliseconds.

    A listener runs in a daemon thread of its own. When its connection drops
    it reconnects and reports ``None``, as announcements may have been missed
    meanwhile, so the listener forgets every key it holds.
    """

    def __init__(self, client: redis.Redis, *, prefix: str = "cbp:") -> None:
        self.client = client
        self.channel = f"{prefix}api-keys:changed"

    def announce(self, key_id: str) -> None:
        """Publish the key's id; a Redis outage is logged, as listeners forget keys anyway."""
        try:
            self.client.publish(self.channel, key_id)
        except redis.RedisError as error:
            logger.warning("key change not announced", extra={"error": type(error).__name__})

    def listen(self, on_revoked: Callable[[str | None], None]) -> None:
        """Start a daemon thread that calls ``on_revoked`` for every key announced."""
        threading.Thread(
            target=self._listen, args=(on_revoked,), name="cbp-key-revocations", daemon=True
        ).start()

    def _listen(self, on_revoked: Callable[[str | None], None]) -> None:
        while True:
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                on_revoked(None)  # NOTE: anything announced before now may have been missed
                while True:
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "message":
                        on_revoked(bytes(message["data"]).decode())
            except redis.RedisError:
                threading.Event().wait(1.0)  # NOTE: Redis is down: try again in a second
