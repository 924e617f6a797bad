"""The command bus hands each handler the ports it names, and its transactions."""

from __future__ import annotations

import inspect
from dataclasses import fields

import pytest

from cbp.bootstrap import Cbp
from cbp.domain.errors import NotFound
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitsOfWork
from cbp.ports.system import Clock
from cbp.services import commands as c
from cbp.services.auditing import chain_audit_log
from cbp.services.bus import HANDLERS, IN_ONE_TRANSACTION, OWN_TRANSACTIONS, inject


def test_every_handler_names_only_ports_options_and_transactions_the_bus_has(
    app: Cbp,
) -> None:
    ports = {port.name for port in fields(app.deps)} - {"options", OWN_TRANSACTIONS}
    ports |= {option.name for option in fields(app.deps.options)}
    for command_type, handler in HANDLERS.items():
        parameters = list(inspect.signature(handler).parameters.values())
        assert parameters[0].name == "command", handler.__qualname__
        named = {p.name for p in parameters[1:]}
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters[1:]), (
            f"{handler.__qualname__} takes its ports by name"
        )
        transactions = named & {IN_ONE_TRANSACTION, OWN_TRANSACTIONS}
        assert len(transactions) <= 1, handler.__qualname__
        assert named - transactions <= ports, f"{command_type.__name__}: {named - ports}"
        assert "deps" not in named


def test_a_handler_gets_exactly_the_ports_it_names_and_the_bus_its_transaction(
    app: Cbp,
) -> None:
    seen: dict[str, object] = {}

    def handler(command: c.Command, *, clock: Clock, uow: UnitOfWork) -> str:
        seen.update(clock=clock, uow=uow)
        return "done"

    bound = inject(handler, app.deps)
    assert bound.transactions == IN_ONE_TRANSACTION
    with app.deps.unit_of_work() as uow:
        assert bound.run(c.CreateTenant(name="t"), uow=uow) == "done"
    assert seen == {"clock": app.deps.clock, "uow": uow}


def test_a_handler_of_several_transactions_says_so(app: Cbp) -> None:
    def handler(command: c.Command, *, unit_of_work: UnitsOfWork) -> None:
        del command, unit_of_work

    assert inject(handler, app.deps).transactions == OWN_TRANSACTIONS


def test_a_handler_gets_the_options_it_names_and_never_the_whole_bag(app: Cbp) -> None:
    def handler(command: c.Command, *, max_notification_attempts: int) -> int:
        del command
        return max_notification_attempts

    bound = inject(handler, app.deps)
    assert bound.run(c.CreateTenant(name="t")) == app.deps.options.max_notification_attempts

    def greedy(command: c.Command, *, options: object) -> None:
        del command, options

    with pytest.raises(TypeError, match="unknown ports: options"):
        inject(greedy, app.deps)


def test_a_handler_asking_for_an_unknown_port_is_refused_when_the_bus_is_built(
    app: Cbp,
) -> None:
    def handler(command: c.Command, *, mailer: object) -> None:
        del command, mailer

    with pytest.raises(TypeError, match="unknown ports: mailer"):
        inject(handler, app.deps)


def test_a_command_run_in_the_callers_unit_of_work_is_kept_only_when_the_caller_commits(
    app: Cbp,
) -> None:
    with app.deps.unit_of_work() as uow:
        app.bus.handle(c.CreateTenant(name="Left"), uow=uow)
        assert [t.name for t in app.queries.within(uow).tenants()] == ["Left"]
    assert app.queries.tenants() == []  # NOTE: never committed
    with app.deps.unit_of_work() as uow:
        app.bus.handle(c.CreateTenant(name="Kept"), uow=uow)
        uow.commit()
    assert [t.name for t in app.queries.tenants()] == ["Kept"]


def test_a_handler_of_several_transactions_cannot_join_the_callers(app: Cbp) -> None:
    with app.deps.unit_of_work() as uow, pytest.raises(TypeError, match="of its own"):
        app.bus.handle(c.ProcessPayment(tenant_id="ten_x", payment_id="pmt_x"), uow=uow)


def audit_entries(app: Cbp, action: str) -> list[tuple[str | None, str, str, dict[str, object]]]:
    chain_audit_log(app.deps)
    with app.deps.unit_of_work() as uow:
        return [
            (e.tenant_id, e.subject_id, e.actor, e.data)
            for e in uow.audit.entries(limit=1000)
            if e.action == action
        ]


def test_the_bus_audits_a_command_by_what_its_class_names_and_its_handler_returned(
    app: Cbp,
) -> None:
    tenant_id = app.handle(c.CreateTenant(name="Audited", actor="cli"))
    app.handle(
        c.SetCustomerLimits(
            tenant_id=tenant_id, daily_limit=None, payment_limit=None, actor="key_ops"
        )
    )
    assert audit_entries(app, "CreateTenant") == [(None, tenant_id, "cli", {"name": "Audited"})]
    assert audit_entries(app, "SetCustomerLimits") == [
        (tenant_id, tenant_id, "key_ops", {"daily_limit": None, "payment_limit": None})
    ]


def test_a_refused_command_is_not_audited_and_one_kept_by_its_caller_is_audited_with_it(
    app: Cbp,
) -> None:
    with pytest.raises(NotFound):
        app.handle(c.SetTenantContact(tenant_id="ten_missing", contact_email="a@example.com"))
    assert audit_entries(app, "SetTenantContact") == []
    with app.deps.unit_of_work() as uow:
        app.bus.handle(c.CreateTenant(name="Dropped"), uow=uow)
    assert audit_entries(app, "CreateTenant") == []  # NOTE: rolled back with its change


def test_no_handler_records_audit_entries_or_builds_message_headers_of_its_own() -> None:
    """The bus is the one place commands are audited and their messages given their cause."""
    for handler in HANDLERS.values():
        source = inspect.getsource(inspect.getmodule(handler))  # type: ignore[arg-type]
        assert "auditing.record(" not in source, handler.__module__
        if handler.__module__ != "cbp.services.outbox":  # NOTE: where ``send`` makes them
            assert "Headers(" not in source, handler.__module__
