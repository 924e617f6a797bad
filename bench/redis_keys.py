"""What a benchmark leaves on Redis under its own prefix, removed when it is done."""

from __future__ import annotations

import redis


def forget_prefix(url: str, prefix: str) -> None:
    """Delete every key under ``prefix`` (one run's own namespace) on the Redis at ``url``.

    Queues, heartbeats, cache entries and rate-limit windows outlive the
    processes that made them; a benchmark run removes its own, and nothing
    else, so that runs never pile up on a shared server.
    """
    if not url.startswith("redis"):
        return
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
