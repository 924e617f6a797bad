"""Prometheus metrics of one API process: its requests, and the message backlog."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cbp.ports.messages import Backlog, DeliveryStatus
from cbp.ports.resilience import BreakerState, BreakerStore

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class MessagingCollector(Collector):
    """Reads the outbox and deliveries at scrape time, so every process agrees."""

    def __init__(
        self,
        read: Callable[[], tuple[Backlog, dict[DeliveryStatus, int]]],
        now: Callable[[], datetime],
    ) -> None:
        self.read = read
        self.now = now

    def collect(self) -> Iterator[Metric]:
        """Outbox backlog and lag, deliveries by status (dead letters among them)."""
        backlog, counts = self.read()
        yield GaugeMetricFamily(
            "cbp_outbox_pending",
            "Messages committed but not yet handed to the broker",
            value=backlog.pending,
        )
        lag = 0.0
        if backlog.oldest_created_at is not None:
            lag = max(0.0, (self.now() - backlog.oldest_created_at).total_seconds())
        yield GaugeMetricFamily(
            "cbp_outbox_lag_seconds", "Age of the oldest message waiting in the outbox", value=lag
        )
        deliveries = GaugeMetricFamily(
            "cbp_deliveries", "Deliveries to subscribers by status", labels=["status"]
        )
        for status, count in sorted(counts.items()):
            deliveries.add_metric([status.value], count)
        yield deliveries
        yield GaugeMetricFamily(
            "cbp_dead_letters",
            "Deliveries that ran out of attempts",
            value=counts.get(DeliveryStatus.DEAD, 0),
        )


@dataclass(frozen=True)
class PaymentHealth:
    """What operators must act on about payments and webhooks, read at scrape time."""

    #: Payments still scheduled for a day that has passed: the sweep missed them.
    overdue: int
    #: The last change of the payment left longest in ``processing``, if any is.
    oldest_processing: datetime | None
    #: Tenants' webhook endpoints paused after failing for days.
    paused_endpoints: int


class PaymentHealthCollector(Collector):
    """Stuck payments and paused webhook endpoints, from the database, as every process sees."""

    def __init__(self, read: Callable[[], PaymentHealth], now: Callable[[], datetime]) -> None:
        self.read = read
        self.now = now

    def collect(self) -> Iterator[Metric]:
        """Overdue payments, the age of the oldest processing one, paused endpoints."""
        health = self.read()
        yield GaugeMetricFamily(
            "cbp_payments_overdue",
            "Payments still scheduled for a send-on date that has passed",
            value=health.overdue,
        )
        age = 0.0
        if health.oldest_processing is not None:
            age = max(0.0, (self.now() - health.oldest_processing).total_seconds())
        yield GaugeMetricFamily(
            "cbp_payments_processing_oldest_seconds",
            "How long the payment left longest in processing has waited for its outcome",
            value=age,
        )
        yield GaugeMetricFamily(
            "cbp_webhook_endpoints_paused",
            "Webhook endpoints paused after failing every delivery for days",
            value=health.paused_endpoints,
        )


class BreakerCollector(Collector):
    """Every circuit breaker's state, read from the shared store at scrape time."""

    def __init__(self, store: BreakerStore) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        """1 for the state each breaker is in, 0 for the others; failures in a row."""
        states = GaugeMetricFamily(
            "cbp_circuit_breaker_state",
            "Circuit breaker state by dependency@instance (1 = the current state)",
            labels=["breaker", "state"],
        )
        failures = GaugeMetricFamily(
            "cbp_circuit_breaker_failures",
            "Consecutive failures counted by each circuit breaker",
            labels=["breaker"],
        )
        for name in self.store.names():
            snapshot = self.store.load(name)
            for state in BreakerState:
                states.add_metric([name, state.value], 1.0 if snapshot.state is state else 0.0)
            failures.add_metric([name], snapshot.failures)
        yield states
        yield failures


class ApiMetrics:
    """The registry a process serves on /metrics (its own, not the global one)."""

    def __init__(self, collectors: tuple[Collector, ...] = ()) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "cbp_http_requests",
            "HTTP requests by method, route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "cbp_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            registry=self.registry,
        )
        for collector in collectors:
            self.registry.register(collector)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
