"""The API keys one process has verified, kept so that a request costs no database round trip."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cbp.domain.access import ApiKey
from cbp.ports.broadcasts import Broadcast


class VerifiedKeys:
    """The API keys this process has verified, so that a request costs no database round trip.

    A key is kept ``ttl_seconds`` at most, and forgotten the moment its
    revocation (or rotation) is announced by any process. It listens for
    announcements from the first key it keeps, so a process that verifies
    no key (a worker, a command) never listens. Where there is no
    broadcast between processes, a short ``ttl_seconds`` bounds how long a
    revoked key may still pass elsewhere.
    """

    #: Keys kept at most: past it, the oldest half is forgotten.
    LIMIT = 10_000

    def __init__(
        self,
        revocations: Broadcast,
        *,
        ttl_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self._monotonic = monotonic
        self._keys: dict[str, tuple[ApiKey, float]] = {}
        self._lock = threading.Lock()
        self._revocations = revocations
        self._listening = False

    def get(self, key_id: str) -> ApiKey | None:
        """The key as it was verified, if it was within the time to live."""
        with self._lock:
            kept = self._keys.get(key_id)
        if kept is None or self._monotonic() - kept[1] >= self.ttl_seconds:
            return None
        return kept[0]

    def keep(self, key: ApiKey) -> None:
        """Remember a key that was just read from the database and verified."""
        with self._lock:
            listen, self._listening = not self._listening, True
        if listen:
            self._revocations.listen(self.forget)
        with self._lock:
            if len(self._keys) >= self.LIMIT:
                for key_id in list(self._keys)[: self.LIMIT // 2]:
                    del self._keys[key_id]
            self._keys[key.id] = (key, self._monotonic())

    def forget(self, key_id: str | None) -> None:
        """Forget one key, or (None) every key."""
        with self._lock:
            if key_id is None:
                self._keys.clear()
            else:
                self._keys.pop(key_id, None)
