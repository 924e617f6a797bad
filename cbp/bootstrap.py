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
from cbp.services.commands import Command
from cbp.services.queries import Queries
from cbp.services.relay import relay_outbox
from cbp.settings import Settings

logger = logging.getLogger("cbp")


class Cbp:
    """A running cbp core: send it commands, ask it queries, pump its messages."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.bus = container.bus()
        self.queries: Queries = container.queries()
        self.deps = container.deps()
        self._pump: threading.Thread | None = None
        self._stopping = threading.Event()

    def handle(self, command: Command) -> Any:
        """Run one command through its use case; returns at most an id."""
        return self.bus.handle(command)

    def run_until_idle(self, *, max_rounds: int = 1000) -> int:
        """Relay the outbox and deliver every message in-process until none is left.

        For the in-memory broker only (embedded use and tests); a real broker's
        workers do this in their own processes. Returns how many deliveries ran.
        """
        broker = self.container.broker()
        router = self.container.router()
        delivered = 0
        for _ in range(max_rounds):
            relay_outbox(self.deps, tasks=broker, events=broker)
            if not broker.queued:
                return delivered
            delivered += broker.drain(router.consume)
        raise RuntimeError(f"messages still flowing after {max_rounds} rounds")

    def start_pump(self, interval: float) -> None:
        """Deliver in-process messages in a background thread, every ``interval`` s.

        Only for the in-process broker, so that a single ``cbp serve`` verifies
        payees and processes payments on its own; real brokers have workers.
        """
        if self._pump is not None:
            return
        self._stopping.clear()

        def pump() -> None:
            while not self._stopping.wait(interval):
                try:
                    self.run_until_idle()
                except Exception:  # NOTE: a failed round is logged and retried next round
                    logger.exception("in-process message pump round failed")

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
    place of the configured one; any provider of the container can be named.
    """
    container = build_container(settings)
    for name, adapter in overrides.items():
        provider = getattr(container, name, None)
        if provider is None:
            raise TypeError(f"no port named {name!r} to override")
        provider.override(adapter)
    return Cbp(container)
