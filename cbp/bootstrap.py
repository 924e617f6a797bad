"""The front door for embedders: the use cases of cbp in a few lines.

```python
from cbp.bootstrap import bootstrap
from cbp.services import commands as c

app = bootstrap()
tenant_id = app.handle(c.CreateTenant(name="Acme Bank"))
```
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from cbp.container import Container, build_container
from cbp.ports.messages import DeliveryStatus, DeliveryTransport
from cbp.ports.resilience import BreakerState
from cbp.services.access import Authenticator
from cbp.services.auditing import chain_audit_log
from cbp.services.bus import CommandBus
from cbp.services.commands import AnnounceBreakerChange, Command
from cbp.services.delivery import Deliveries
from cbp.services.dependencies import Dependencies
from cbp.services.periodic import periodic_jobs
from cbp.services.queries import Queries
from cbp.services.routing import MessageRouter
from cbp.settings import Settings

logger = logging.getLogger("cbp")


class Cbp:
    """A running cbp core: send it commands, ask it queries, pump its messages."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.bus: CommandBus = container.core.bus()
        self.queries: Queries = container.core.queries()
        self.authenticate: Authenticator = container.core.authenticator()
        self.deliveries: Deliveries = container.core.deliveries()
        self.deps: Dependencies = container.core.deps()
        self.router: MessageRouter = container.core.router()
        container.gateways.breaker_listeners().append(self._announce_breaker_change)
        self._pump: threading.Thread | None = None
        self._stopping = threading.Event()

    def handle(self, command: Command) -> Any:
        """Run one command through its use case; returns at most an id."""
        return self.bus.handle(command)

    def _announce_breaker_change(self, breaker: str, old: BreakerState, new: BreakerState) -> None:
        self.bus.handle(
            AnnounceBreakerChange(breaker=breaker, old_state=old.value, new_state=new.value)
        )

    def run_until_idle(self, *, max_rounds: int = 1000, stop: threading.Event | None = None) -> int:
        """Relay, dispatch, consume and chain the audit log in-process until nothing is due now.

        For the in-memory broker only (embedded use and tests); a real broker's
        workers do this in their own processes. A delivery backing off after a
        failure is not due yet, so call again later for it. Returns how many
        deliveries ran. Setting ``stop`` ends the run between two deliveries,
        never in the middle of one.
        """
        broker = self.container.adapters.broker()
        delivered = 0
        for _ in range(max_rounds):
            if stop is not None and stop.is_set():
                return delivered
            relayed = self.deliveries.relay(self.router.route)
            chain_audit_log(self.deps)
            if not self.dispatch(broker) and not relayed:
                return delivered
            delivered += broker.drain(self.consume_sent, stop=stop)
        raise RuntimeError(f"messages still flowing after {max_rounds} rounds")

    def dispatch(self, transport: DeliveryTransport) -> int:
        """Lease the deliveries due now and send them, several of a subscriber to a message."""
        return self.deliveries.dispatch_due(transport, together=self.router.is_local)

    def consume(self, delivery_id: str) -> DeliveryStatus:
        """Run one delivery in this process; return its new status."""
        return self.deliveries.consume(
            self.router.consume,
            delivery_id,
            in_one_transaction=self.router.is_local,
        )

    def consume_sent(self, *delivery_ids: str) -> None:
        """Run the deliveries of one broker message in this process, as a worker does."""
        self.deliveries.consume_sent(
            self.router.consume, list(delivery_ids), in_one_transaction=self.router.is_local
        )

    def start_pump(
        self, interval: float, *, periodic_seconds: float = 30.0, retention_days: float = 7.0
    ) -> None:
        """Deliver in-process messages in a background thread, every ``interval`` s.

        Only for the in-process broker, so that a single ``cbp serve`` verifies
        payees, processes payments, reconciles and sweeps on its own; with a
        real broker, ``cbp relay`` and ``cbp worker`` do this.
        """
        if self._pump is not None:
            return
        self._stopping.clear()
        jobs = periodic_jobs(
            self.bus, interval_seconds=periodic_seconds, retention_days=retention_days
        )

        def pump() -> None:
            while not self._stopping.wait(interval):
                try:
                    self.run_until_idle(stop=self._stopping)
                except Exception:  # NOTE: a failed round is logged and retried next round
                    logger.exception("in-process message pump round failed")
                for job in jobs:
                    job.tick()

        self._pump = threading.Thread(target=pump, name="cbp-pump", daemon=True)
        self._pump.start()

    def close(self) -> None:
        """Stop the pump and release every resource the container opened."""
        self._stopping.set()
        if self._pump is not None:
            self._pump.join(timeout=10)
            self._pump = None
        self.container.shutdown_resources()


def bootstrap(settings: Settings | None = None, **overrides: Any) -> Cbp:
    """Build a core from settings; ``overrides`` replace adapters by port name.

    ``bootstrap(notifier=MyNotifier())`` plugs an embedder's own notifier in
    place of the configured one; any provider of the adapters, gateways or
    core containers can be named.
    """
    container = build_container(settings)
    for name, adapter in overrides.items():
        parts = (container.adapters, container.gateways, container.core)
        provider = next((getattr(p, name) for p in parts if hasattr(p, name)), None)
        if provider is None:
            raise TypeError(f"no port named {name!r} to override")
        provider.override(adapter)
    return Cbp(container)
