from datetime import UTC, datetime

import pytest

from cbp.adapters.memory.clock import InMemoryClock
from cbp.adapters.rules.verifier import RulesAccountVerifier
from cbp.bootstrap import Cbp
from cbp.domain.errors import (
    IllegalTransition,
    InvalidAccountNumber,
    InvalidInput,
    InvalidRoutingNumber,
    NotFound,
    PayeeNotPayable,
)
from cbp.domain.verification import VerificationStatus
from cbp.ports.errors import DependencyDeferred
from cbp.ports.messages import DeliveryStatus
from cbp.services import commands as c
from tests.unit.services.conftest import (
    ScriptedVerifier,
    World,
    address,
    make_world,
    memory_core,
)


class TestPayees:
    def test_a_new_payee_is_verified_in_the_background(self, world: World) -> None:
        app = world.app
        payee_id = app.handle(
            c.AddPayee(
                tenant_id=world.tenant_id,
                customer_id=world.customer_id,
                global_payee_id=world.biller_id,
                account_number="555-555-5555",
                nickname="Power",
            )
        )
        payee = app.queries.get_payee(world.tenant_id, payee_id)
        assert payee.verification_status is VerificationStatus.PENDING
        assert (payee.name, payee.account_number_masked) == (
            app.queries.get_global_payee(world.biller_id).name,
            "****5555",
        )
        app.run_until_idle()
        payee = app.queries.get_payee(world.tenant_id, payee_id)
        assert payee.verification_status is VerificationStatus.VERIFIED

    def test_an_account_number_must_fit_the_billers_mask(self, world: World) -> None:
        with pytest.raises(InvalidAccountNumber):
            world.app.handle(
                c.AddPayee(
                    tenant_id=world.tenant_id,
                    customer_id=world.customer_id,
                    global_payee_id=world.biller_id,
                    account_number="12AB",
                )
            )

    def test_a_suspended_biller_takes_no_new_payees(self, world: World) -> None:
        world.app.handle(c.UpdateGlobalPayee(global_payee_id=world.biller_id, status="suspended"))
        with pytest.raises(PayeeNotPayable, match="suspended"):
            world.app.handle(
                c.AddPayee(
                    tenant_id=world.tenant_id,
                    customer_id=world.customer_id,
                    global_payee_id=world.biller_id,
                    account_number="1234567890",
                )
            )

    def test_a_personal_payee_needs_a_name_and_an_address(self, world: World) -> None:
        with pytest.raises(InvalidInput, match="name and an address"):
            world.app.handle(
                c.AddPayee(
                    tenant_id=world.tenant_id, customer_id=world.customer_id, account_number="1"
                )
            )
        payee_id = world.app.handle(
            c.AddPayee(
                tenant_id=world.tenant_id,
                customer_id=world.customer_id,
                account_number="77",
                name="Dr. Smith",
                address=address(),
            )
        )
        assert world.app.queries.get_payee(world.tenant_id, payee_id).global_payee_id is None

    def test_changing_the_account_number_verifies_it_again(self, world: World) -> None:
        app = world.app
        app.handle(
            c.UpdatePayee(
                tenant_id=world.tenant_id, payee_id=world.payee_id, account_number="9999999999"
            )
        )
        payee = app.queries.get_payee(world.tenant_id, world.payee_id)
        assert (payee.verification_status, payee.account_number_masked) == (
            VerificationStatus.PENDING,
            "****9999",
        )
        app.run_until_idle()
        assert app.queries.get_payee(world.tenant_id, world.payee_id).is_payable

    def test_an_answer_about_a_number_changed_meanwhile_is_not_recorded(
        self, world: World, verifier: ScriptedVerifier
    ) -> None:
        app = world.app

        def change_to(number: str) -> None:
            app.handle(
                c.UpdatePayee(
                    tenant_id=world.tenant_id, payee_id=world.payee_id, account_number=number
                )
            )

        change_to("9999999999")
        verifier.refused.add("9999999999")
        verifier.meanwhile = lambda: change_to("8888888888")
        app.handle(c.VerifyPayeeAccount(tenant_id=world.tenant_id, payee_id=world.payee_id))
        payee = app.queries.get_payee(world.tenant_id, world.payee_id)
        assert (payee.verification_status, payee.account_number_masked) == (
            VerificationStatus.PENDING,
            "****8888",
        )
        app.run_until_idle()
        assert app.queries.get_payee(world.tenant_id, world.payee_id).is_payable

    def test_a_payee_can_be_deactivated_once(self, world: World) -> None:
        app = world.app
        app.handle(
            c.UpdatePayee(tenant_id=world.tenant_id, payee_id=world.payee_id, status="inactive")
        )
        assert not app.queries.get_payee(world.tenant_id, world.payee_id).is_payable
        with pytest.raises(IllegalTransition):
            app.handle(
                c.UpdatePayee(tenant_id=world.tenant_id, payee_id=world.payee_id, status="inactive")
            )
        with pytest.raises(InvalidInput):
            app.handle(
                c.UpdatePayee(tenant_id=world.tenant_id, payee_id=world.payee_id, status="gone")
            )

    def test_another_tenants_payee_is_not_found(self, app: Cbp) -> None:
        acme, other = make_world(app, "Acme"), make_world(app, "Other")
        with pytest.raises(NotFound):
            app.queries.get_payee(other.tenant_id, acme.payee_id)
        with pytest.raises(NotFound):
            app.handle(
                c.UpdatePayee(tenant_id=other.tenant_id, payee_id=acme.payee_id, nickname="x")
            )
        with pytest.raises(NotFound):
            app.handle(
                c.AddPayee(
                    tenant_id=other.tenant_id,
                    customer_id=acme.customer_id,
                    global_payee_id=acme.biller_id,
                    account_number="1234567890",
                )
            )

    def test_payees_are_listed_per_customer_in_pages(self, world: World) -> None:
        for n in range(4):
            world.app.handle(
                c.AddPayee(
                    tenant_id=world.tenant_id,
                    customer_id=world.customer_id,
                    account_number=str(n),
                    name=f"P{n}",
                    address=address(),
                )
            )
        first = world.app.queries.list_payees(
            world.tenant_id, customer_id=world.customer_id, limit=3
        )
        rest = world.app.queries.list_payees(
            world.tenant_id, customer_id=world.customer_id, cursor=first.next_cursor, limit=3
        )
        assert len(first.items) == 3 and len(rest.items) == 2 and rest.next_cursor is None
        assert {p.id for p in first.items}.isdisjoint({p.id for p in rest.items})


class TestFundingAccounts:
    def add(self, world: World, **kwargs: str) -> str:
        fields = {
            "routing_number": "021000021",
            "account_number": "12345678",
            "account_type": "savings",
            "holder_name": "Ada",
        } | kwargs
        return str(
            world.app.handle(
                c.AddFundingAccount(
                    tenant_id=world.tenant_id, customer_id=world.customer_id, **fields
                )
            )
        )

    def test_a_valid_account_is_verified_and_masked(self, world: World) -> None:
        account = world.app.queries.get_funding_account(world.tenant_id, self.add(world))
        assert account.is_usable
        assert (account.routing_number_masked, account.account_number_masked) == (
            "****0021",
            "****5678",
        )

    def test_a_bad_routing_number_or_account_type_is_refused(self, world: World) -> None:
        with pytest.raises(InvalidRoutingNumber):
            self.add(world, routing_number="021000022")
        with pytest.raises(InvalidInput, match="account_type must be one of: checking, savings"):
            self.add(world, account_type="brokerage")

    def test_an_account_the_verifier_rejects_is_kept_but_unusable(self, world: World) -> None:
        account = world.app.queries.get_funding_account(
            world.tenant_id, self.add(world, account_number="12")
        )
        assert account.verification_status is VerificationStatus.FAILED


def test_an_answer_about_funding_numbers_corrected_meanwhile_is_not_recorded(
    world: World, verifier: ScriptedVerifier
) -> None:
    app = world.app

    def correct_to(account_number: str) -> None:
        with app.deps.unit_of_work() as uow:
            account = uow.funding_accounts.get(world.tenant_id, world.funding_id)
            account.correct(
                routing_number=None,
                account_number=account_number,
                account_type=None,
                holder_name=None,
                at=datetime(2026, 3, 2, 15, tzinfo=UTC),
            )
            uow.funding_accounts.save(account)
            uow.commit()

    correct_to("12")  # NOTE: a number the verifier refuses
    verifier.meanwhile = lambda: correct_to("000111222333")
    app.handle(c.VerifyFundingAccount(tenant_id=world.tenant_id, account_id=world.funding_id))
    account = app.queries.get_funding_account(world.tenant_id, world.funding_id)
    assert (account.verification_status, account.account_number_masked) == (
        VerificationStatus.PENDING,
        "****2333",
    )
    app.run_until_idle()
    assert app.queries.get_funding_account(world.tenant_id, world.funding_id).is_usable


class VerifierDown(RulesAccountVerifier):
    """The rules verifier behind a switch: its breaker open while ``down``."""

    down = False

    def verify_funding_account(self, routing_number: str, account_number: str):  # type: ignore[no-untyped-def]
        if self.down:
            raise DependencyDeferred("verifier", "circuit open", retry_after=30)
        return super().verify_funding_account(routing_number, account_number)


def test_a_funding_account_added_while_the_verifier_is_down_is_verified_once_it_is_back() -> None:
    clock, verifier = InMemoryClock(), VerifierDown()
    app = memory_core(clock, verifier=verifier)
    world = make_world(app)
    verifier.down = True
    account_id = app.handle(
        c.AddFundingAccount(
            tenant_id=world.tenant_id,
            customer_id=world.customer_id,
            routing_number="011000015",
            account_number="000987654321",
            account_type="savings",
            holder_name="Ada",
        )
    )
    app.run_until_idle()

    def status() -> VerificationStatus:
        return app.queries.get_funding_account(world.tenant_id, account_id).verification_status

    assert status() is VerificationStatus.PENDING
    verifier.down = False
    clock.advance(seconds=60)
    app.run_until_idle()
    assert status() is VerificationStatus.VERIFIED
    with app.deps.unit_of_work() as uow:
        assert uow.deliveries.counts()[DeliveryStatus.DEAD] == 0
    app.close()
