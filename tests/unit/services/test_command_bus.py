"""The command bus hands each handler the ports it names, and only those."""

from __future__ import annotations

import inspect
from dataclasses import fields

import pytest

from cbp.bootstrap import Cbp
from cbp.ports.storage.unit_of_work import UnitOfWorkFactory
from cbp.ports.system import Clock
from cbp.services import commands as c
from cbp.services.bus import HANDLERS, inject


def test_every_handler_names_only_ports_the_bus_has(app: Cbp) -> None:
    ports = {port.name for port in fields(app.deps)}
    for command_type, handler in HANDLERS.items():
        parameters = list(inspect.signature(handler).parameters.values())
        assert parameters[0].name == "command", handler.__qualname__
        named = {p.name for p in parameters[1:]}
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters[1:]), (
            f"{handler.__qualname__} takes its ports by name"
        )
        assert named <= ports, f"{command_type.__name__}: {named - ports}"
        assert "deps" not in named


def test_a_handler_gets_exactly_the_ports_it_names(app: Cbp) -> None:
    seen: dict[str, object] = {}

    def handler(command: c.Command, *, clock: Clock, unit_of_work: UnitOfWorkFactory) -> str:
        seen.update(clock=clock, unit_of_work=unit_of_work)
        return "done"

    bound = inject(handler, app.deps)
    assert bound(c.CreateTenant(name="t")) == "done"
    assert seen == {"clock": app.deps.clock, "unit_of_work": app.deps.unit_of_work}


def test_a_handler_asking_for_an_unknown_port_is_refused_when_the_bus_is_built(
    app: Cbp,
) -> None:
    def handler(command: c.Command, *, mailer: object) -> None:
        del command, mailer

    with pytest.raises(TypeError, match="unknown ports: mailer"):
        inject(handler, app.deps)
