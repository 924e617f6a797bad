"""Circuit breaker state on Redis, so every process of a deployment sees one state.

Each breaker is one hash. An update reads it under ``WATCH`` and writes it
in ``MULTI``, computing the next state with the same functions as the
in-process store; two processes racing for the half-open probe cannot both
win, since the loser's transaction aborts and it reads the winner's state.
"""

from __future__ import annotations

from collections.abc import Callable

import redis

from cbp.ports.resilience import (
    BreakerSnapshot,
    BreakerState,
    after_failure,
    after_probe_claim,
)

_TTL_SECONDS = 7 * 24 * 3600


class RedisBreakerStore:
    """Breaker states under ``{prefix}breaker:{name}``."""

    def __init__(self, client: redis.Redis, *, prefix: str = "cbp:") -> None:
        self.client = client
        self.prefix = prefix

    def load(self, name: str) -> BreakerSnapshot:
        """The breaker's state now."""
        return _decode(self.client.hgetall(self._key(name)))  # type: ignore[arg-type]

    def record_failure(self, name: str, *, threshold: int, now: float) -> BreakerSnapshot:
        """Count a failure; open at the threshold or on a failed probe."""
        result = self._update(name, lambda s: after_failure(s, threshold=threshold, now=now))
        assert result is not None
        return result

    def record_success(self, name: str) -> BreakerSnapshot:
        """Close the breaker."""
        result = self._update(name, lambda _: BreakerSnapshot())
        assert result is not None
        return result

    def try_probe(self, name: str, *, reset_after: float, probe_timeout: float, now: float) -> bool:
        """Claim the half-open probe if it is free and the wait is over."""
        claimed = self._update(
            name,
            lambda s: after_probe_claim(
                s, reset_after=reset_after, probe_timeout=probe_timeout, now=now
            ),
        )
        return claimed is not None

    def names(self) -> list[str]:
        """Every breaker with state on this Redis under the prefix.

        One set names them (no key scan per scrape); a name whose state has
        expired is dropped from it here.
        """
        names = sorted(n.decode() for n in self.client.smembers(self._names))  # type: ignore[union-attr]
        if not names:
            return []
        with self.client.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.exists(self._key(name))
            alive = pipe.execute()
        gone = [name for name, exists in zip(names, alive, strict=True) if not exists]
        if gone:
            self.client.srem(self._names, *gone)
        return [name for name, exists in zip(names, alive, strict=True) if exists]

    def _update(
        self, name: str, change: Callable[[BreakerSnapshot], BreakerSnapshot | None]
    ) -> BreakerSnapshot | None:
        key = self._key(name)
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    new = change(_decode(pipe.hgetall(key)))  # type: ignore[arg-type]
                    if new is None:
                        pipe.unwatch()
                        return None
                    pipe.multi()
                    pipe.delete(key)
                    pipe.hset(key, mapping=_encode(new))  # type: ignore[arg-type]
                    pipe.expire(key, _TTL_SECONDS)
                    pipe.sadd(self._names, name)
                    pipe.execute()
                    return new
                except redis.WatchError:
                    continue

    def _key(self, name: str) -> str:
        return f"{self.prefix}breaker:{name}"

    @property
    def _names(self) -> str:
        return f"{self.prefix}breakers"


def _encode(snapshot: BreakerSnapshot) -> dict[str, str]:
    values = {"state": snapshot.state.value, "failures": str(snapshot.failures)}
    if snapshot.opened_at is not None:
        values["opened_at"] = repr(snapshot.opened_at)
    if snapshot.probe_until is not None:
        values["probe_until"] = repr(snapshot.probe_until)
    return values


def _decode(fields: dict[bytes, bytes]) -> BreakerSnapshot:
    if not fields:
        return BreakerSnapshot()
    opened = fields.get(b"opened_at")
    probe = fields.get(b"probe_until")
    return BreakerSnapshot(
        state=BreakerState(fields[b"state"].decode()),
        failures=int(fields.get(b"failures", b"0")),
        opened_at=float(opened) if opened else None,
        probe_until=float(probe) if probe else None,
    )
