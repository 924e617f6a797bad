"""The front door for embedders: the use cases of cbp in a few lines.

```python
from cbp.bootstrap import bootstrap
from cbp.services import commands as c

app = bootstrap()
tenant_id = app.handle(c.CreateTenant(name="Acme Bank"))
```
"""

from __future__ import annotations

from typing import Any

from cbp.container import Container, build_container
from cbp.services.commands import Command
from cbp.services.queries import Queries
from cbp.services.relay import relay_outbox
from cbp.settings import Settings


class Cbp:
    """A running cbp core: send it commands, ask it queries, pump its messages."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.bus = container.bus()
        self.queries: Queries = container.queries()
        self.deps = container.deps()

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

    def close(self) -> None:
        """Release every resource the container opened."""
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
