"""A fresh core per test on memory adapters, and a ready-made customer world."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from cbp.adapters.memory.clock import InMemoryClock, SequentialIdGenerator
from cbp.adapters.memory.notifiers import InMemoryNotifier, InMemoryWebhookSender
from cbp.adapters.rules.verifier import RulesAccountVerifier
from cbp.adapters.sql.crypto import FieldCipher
from cbp.bootstrap import Cbp, bootstrap
from cbp.domain.banking import AccountMask
from cbp.ports.verifier import VerificationResult
from cbp.services import commands as c
from cbp.settings import Settings
from tests.databases import postgres_engine, postgres_url, sqlite_engine, sqlite_template

ENCRYPTION_KEY = FieldCipher.generate_key()
ACCOUNT_NUMBER = "4417123456"
FUNDING_ACCOUNT_NUMBER = "000123456789"
ROUTING_NUMBER = "011000015"


__all__ = ["postgres_engine", "postgres_url", "sqlite_engine", "sqlite_template"]


@pytest.fixture
def clock() -> InMemoryClock:
    return InMemoryClock()  # Monday 2026-03-02, 09:00 in New York


@pytest.fixture
def notifier() -> InMemoryNotifier:
    return InMemoryNotifier()


@pytest.fixture
def webhooks() -> InMemoryWebhookSender:
    return InMemoryWebhookSender()


class ScriptedVerifier(RulesAccountVerifier):
    """The rules verifier, except that it refuses the payee account numbers in ``refused``.

    ``meanwhile``, when set, runs while a call is being answered: what a
    customer or a bank does while the verifier is thinking.
    """

    def __init__(self) -> None:
        self.refused: set[str] = set()
        self.meanwhile: Callable[[], object] | None = None

    def _think(self) -> None:
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()

    def verify_payee_account(
        self, account_number: str, masks: tuple[AccountMask, ...]
    ) -> VerificationResult:
        self._think()
        if account_number in self.refused:
            return VerificationResult(verified=False, reason="account_not_found")
        return super().verify_payee_account(account_number, masks)

    def verify_funding_account(
        self, routing_number: str, account_number: str
    ) -> VerificationResult:
        self._think()
        return super().verify_funding_account(routing_number, account_number)


@pytest.fixture
def verifier() -> ScriptedVerifier:
    return ScriptedVerifier()


@pytest.fixture
def core_settings() -> dict[str, object]:
    """Settings a test module changes for its cores (overridden there); none by default."""
    return {}


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def backend(request: pytest.FixtureRequest) -> str:
    """Every use case runs on every storage adapter."""
    return str(request.param)


@pytest.fixture
def app(
    backend: str,
    clock: InMemoryClock,
    notifier: InMemoryNotifier,
    webhooks: InMemoryWebhookSender,
    verifier: ScriptedVerifier,
    core_settings: dict[str, object],
    request: pytest.FixtureRequest,
) -> Iterator[Cbp]:
    database_url = "memory://"
    if backend != "memory":
        engine = request.getfixturevalue(f"{backend.replace('postgresql', 'postgres')}_engine")
        database_url = engine.url.render_as_string(hide_password=False)
    settings = Settings(
        database_url=database_url,
        auto_migrate=False,
        api_key_secret="test-secret",
        encryption_keys=ENCRYPTION_KEY,
        max_notification_attempts=3,
        delivery_retry_base_seconds=0,  # NOTE: the fake clock stands still; retry at once
        **core_settings,  # type: ignore[arg-type]
    )
    core = bootstrap(
        settings,
        clock=clock,
        ids=SequentialIdGenerator(),
        notifier=notifier,
        webhooks=webhooks,
        verifier=verifier,
    )
    yield core
    core.close()


def memory_core(clock: InMemoryClock, **overrides: object) -> Cbp:
    """A core on memory adapters with some of its ports replaced (a verifier that is down)."""
    settings = Settings(
        database_url="memory://", api_key_secret="test-secret", encryption_keys=ENCRYPTION_KEY
    )
    return bootstrap(settings, clock=clock, ids=SequentialIdGenerator(), **overrides)


def address() -> c.Address:
    return c.Address(line1="1 Main St", city="Springfield", state="IL", postal_code="62701")


@dataclass
class World:
    """A tenant with a customer who has a verified payee and funding account."""

    app: Cbp
    tenant_id: str
    customer_id: str
    biller_id: str
    payee_id: str
    funding_id: str

    def pay(self, amount: str = "25.00", **kwargs: object) -> str:
        command = c.CreateOneTimePayment(
            tenant_id=kwargs.pop("tenant_id", self.tenant_id),  # type: ignore[arg-type]
            customer_id=self.customer_id,
            payee_id=kwargs.pop("payee_id", self.payee_id),  # type: ignore[arg-type]
            funding_account_id=self.funding_id,
            amount=amount,
            **kwargs,  # type: ignore[arg-type]
        )
        return str(self.app.handle(command))

    def status(self, payment_id: str) -> str:
        return self.app.queries.get_payment(self.tenant_id, payment_id).status.value


def make_world(app: Cbp, name: str = "Acme Bank") -> World:
    tenant_id = app.handle(c.CreateTenant(name=name))
    customer_id = app.handle(
        c.CreateCustomer(
            tenant_id=tenant_id, external_id="cust-1", name="Ada", email="ada@example.com"
        )
    )
    biller_id = app.handle(
        c.AddGlobalPayee(
            name=f"Springfield Power {name}",
            category="utilities",
            address=address(),
            account_masks=("9999999999",),
            lead_days=2,
        )
    )
    payee_id = app.handle(
        c.AddPayee(
            tenant_id=tenant_id,
            customer_id=customer_id,
            global_payee_id=biller_id,
            account_number=ACCOUNT_NUMBER,
        )
    )
    app.run_until_idle()
    funding_id = app.handle(
        c.AddFundingAccount(
            tenant_id=tenant_id,
            customer_id=customer_id,
            routing_number=ROUTING_NUMBER,
            account_number=FUNDING_ACCOUNT_NUMBER,
            account_type="checking",
            holder_name="Ada",
        )
    )
    return World(app, tenant_id, customer_id, biller_id, payee_id, funding_id)


@pytest.fixture
def world(app: Cbp) -> World:
    return make_world(app)
