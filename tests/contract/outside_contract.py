"""Contracts of the cache, rate limiter and broker ports.

Subclasses provide ``cache_and_clock`` / ``limiter_and_clock``: the adapter
and a function that lets ``seconds`` pass for it (a fake clock's advance, or
a real sleep), and ``transport_and_receive`` for the delivery transport.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cbp.ports.cache import Cache
from cbp.ports.messages import DeliveryTransport, MessageKind
from cbp.ports.rate_limits import RateLimiter
from cbp.ports.resilience import BreakerState, BreakerStore
from tests.contract import builders as b

Advance = Callable[[float], None]
Receive = Callable[[int], list[tuple[str, ...]]]


class CacheContract:
    """Bytes in, the same bytes out, until they expire or are deleted."""

    def test_a_value_is_returned_until_it_expires(
        self, cache_and_clock: tuple[Cache, Advance]
    ) -> None:
        cache, advance = cache_and_clock
        cache.set("contract:k", b"\x00value\xff", ttl_seconds=1)
        assert cache.get("contract:k") == b"\x00value\xff"
        advance(1.2)
        assert cache.get("contract:k") is None

    def test_a_deleted_or_missing_key_is_none(self, cache_and_clock: tuple[Cache, Advance]) -> None:
        cache, _ = cache_and_clock
        cache.set("contract:k", b"v", ttl_seconds=60)
        cache.delete("contract:k")
        cache.delete("contract:never-set")
        assert cache.get("contract:k") is None

    def test_setting_again_replaces_the_value(self, cache_and_clock: tuple[Cache, Advance]) -> None:
        cache, _ = cache_and_clock
        cache.set("contract:k", b"one", ttl_seconds=60)
        cache.set("contract:k", b"two", ttl_seconds=60)
        assert cache.get("contract:k") == b"two"

    def test_many_keys_are_read_together_in_the_order_asked(
        self, cache_and_clock: tuple[Cache, Advance]
    ) -> None:
        cache, advance = cache_and_clock
        cache.set("contract:a", b"a", ttl_seconds=60)
        cache.set("contract:b", b"b", ttl_seconds=1)
        assert cache.get_many(["contract:b", "contract:none", "contract:a"]) == [b"b", None, b"a"]
        advance(1.2)
        assert cache.get_many(["contract:a", "contract:b"]) == [b"a", None]


class RateLimiterContract:
    """A limit per key per window, with what a client needs to back off."""

    def test_calls_beyond_the_limit_are_refused_until_the_window_passes(
        self, limiter_and_clock: tuple[RateLimiter, Advance]
    ) -> None:
        limiter, advance = limiter_and_clock
        decisions = [limiter.hit("contract:key", limit=3, window_seconds=1) for _ in range(4)]
        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert [d.remaining for d in decisions] == [2, 1, 0, 0]
        assert all(d.limit == 3 and 0 <= d.reset_seconds <= 1 for d in decisions)
        advance(1.1)
        assert limiter.hit("contract:key", limit=3, window_seconds=1).allowed

    def test_no_more_than_the_limit_passes_across_a_window_edge(
        self, limiter_and_clock: tuple[RateLimiter, Advance]
    ) -> None:
        # NOTE: a fixed window lets a burst through at the end of one window and
        # another at the start of the next; any two seconds here hold one burst.
        # The first burst comes late in a two-second window of the epoch, so the
        # second falls in the next one.
        limiter, advance = limiter_and_clock
        advance((1.6 - time.time() % 2) % 2)
        passed = sum(
            limiter.hit("contract:edge", limit=3, window_seconds=2).allowed for _ in range(3)
        )
        advance(1.0)
        passed += sum(
            limiter.hit("contract:edge", limit=3, window_seconds=2).allowed for _ in range(3)
        )
        assert passed == 3

    def test_keys_are_counted_apart(self, limiter_and_clock: tuple[RateLimiter, Advance]) -> None:
        limiter, _ = limiter_and_clock
        limiter.hit("contract:a", limit=1, window_seconds=60)
        assert not limiter.hit("contract:a", limit=1, window_seconds=60).allowed
        assert limiter.hit("contract:b", limit=1, window_seconds=60).allowed


class TransportContract:
    """Each delivery sent reaches a consumer of its subscriber's queue, whole, by id.

    Subclasses provide ``transport_and_receive``: the transport, and a
    function that returns the ids each consumer call got, once ``count``
    deliveries arrived (or its timeout passed).
    """

    def test_tasks_and_each_subscribers_events_reach_a_consumer(
        self, transport_and_receive: tuple[DeliveryTransport, Receive]
    ) -> None:
        transport, receive = transport_and_receive
        sent = [
            b.delivery(b.message(MessageKind.TASK, "payment.processing"), "payment-processor"),
            b.delivery(b.message(MessageKind.EVENT, "payment.events"), "audit-log"),
            b.delivery(b.message(MessageKind.EVENT, "payee.events"), "directory-cache"),
            b.delivery(b.message(MessageKind.EVENT, "payee.events"), "validation-service"),
        ]
        for delivery in sent:
            transport.send(delivery)
        calls = receive(len(sent))
        assert sorted(calls) == sorted((d.id,) for d in sent)

    def test_deliveries_sent_together_reach_one_consumer_call_together(
        self, transport_and_receive: tuple[DeliveryTransport, Receive]
    ) -> None:
        transport, receive = transport_and_receive
        together = [
            b.delivery(b.message(MessageKind.EVENT, "payment.events"), "audit-log")
            for _ in range(3)
        ]
        transport.send_together(together)
        assert receive(3) == [tuple(d.id for d in together)]


class BreakerStoreContract:
    """Closed, open after the threshold, one probe at a time, closed on success.

    Subclasses provide ``store``: a fresh, empty breaker store.
    """

    def test_a_breaker_opens_after_the_threshold_of_failures_in_a_row(
        self, store: BreakerStore
    ) -> None:
        assert store.load("p@a").state is BreakerState.CLOSED
        for _ in range(2):
            assert store.record_failure("p@a", threshold=3, now=100.0).state is BreakerState.CLOSED
        opened = store.record_failure("p@a", threshold=3, now=101.0)
        assert (opened.state, opened.failures, opened.opened_at) == (BreakerState.OPEN, 3, 101.0)
        assert store.load("p@a") == opened
        assert store.load("p@b").state is BreakerState.CLOSED, "one breaker per instance"

    def test_a_success_closes_and_forgets_the_failures(self, store: BreakerStore) -> None:
        store.record_failure("p@a", threshold=3, now=1.0)
        store.record_failure("p@a", threshold=3, now=2.0)
        store.record_success("p@a")
        assert store.record_failure("p@a", threshold=3, now=3.0).state is BreakerState.CLOSED

    def test_only_one_caller_gets_the_probe_and_only_after_the_wait(
        self, store: BreakerStore
    ) -> None:
        store.record_failure("p@a", threshold=1, now=10.0)
        assert not store.try_probe("p@a", reset_after=5, probe_timeout=3, now=14.9)
        assert store.try_probe("p@a", reset_after=5, probe_timeout=3, now=15.0)
        assert store.load("p@a").state is BreakerState.HALF_OPEN
        assert not store.try_probe("p@a", reset_after=5, probe_timeout=3, now=16.0)
        assert store.try_probe("p@a", reset_after=5, probe_timeout=3, now=18.1), "probe lost"

    def test_a_failed_probe_opens_again(self, store: BreakerStore) -> None:
        store.record_failure("p@a", threshold=1, now=10.0)
        assert store.try_probe("p@a", reset_after=5, probe_timeout=3, now=15.0)
        reopened = store.record_failure("p@a", threshold=1, now=15.5)
        assert (reopened.state, reopened.opened_at) == (BreakerState.OPEN, 15.5)
        assert not store.try_probe("p@a", reset_after=5, probe_timeout=3, now=16.0)
        assert sorted(store.names()) == ["p@a"]
