"""The composition root: builds a process's adapters from settings and wires the core.

Only entry points, ``bootstrap`` and tests touch this package. It is three
containers, each of its own kind, as dependency-injector's multiple-container
layout has them: ``gateways`` (secrets, connections, outside-call policies),
``adapters`` (one implementation of each port, chosen by settings) and
``core`` (the command bus, queries, deliveries and key check).
"""

from __future__ import annotations

from dependency_injector import containers, providers

from cbp.container.adapters import Adapters
from cbp.container.core import Core
from cbp.container.gateways import Gateways
from cbp.settings import Settings


class Container(containers.DeclarativeContainer):
    """Every adapter and service of one cbp process."""

    settings = providers.Dependency(instance_of=Settings)
    config = providers.Configuration()

    gateways = providers.Container(Gateways, settings=settings, config=config)
    adapters = providers.Container(Adapters, settings=settings, config=config, gateways=gateways)
    core = providers.Container(Core, config=config, gateways=gateways, adapters=adapters)


def build_container(settings: Settings | None = None) -> Container:
    """A container configured from ``settings`` (the environment by default)."""
    settings = settings or Settings()
    container = Container(settings=settings)
    container.config.from_dict(settings.for_container())
    return container
