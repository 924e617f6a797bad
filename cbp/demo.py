"""A scripted tour of a payment's life, on whatever adapters ``app`` holds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from cbp.bootstrap import Cbp
from cbp.ports.storage.notices import ExceptionFilter
from cbp.services import commands as c

#: Amounts that the simulator turns into each outcome (see adapters/simulator).
DEMO_AMOUNTS = {
    "42.00": "settles",
    "42.13": "fails: insufficient funds",
    "42.14": "settles, then is returned by the bank",
    "42.17": "times out at the processor; the reconciler settles it",
}

#: Well-known billers, with how often customers pay them (searches rank by it).
BILLERS = (
    ("Pacific Gas and Electric", "utilities", ("PG&E",), ("9999999999",), 2, 950_000),
    ("Comcast Xfinity", "telecom", ("Xfinity",), ("99999999999999999",), 3, 900_000),
    ("Chase Card Services", "credit_card", ("Chase",), ("9999999999999999",), 1, 870_000),
    ("City of Springfield Water", "utilities", (), (), 5, 120_000),
)


#: The demo's own biller: found by its exact name, or added once, so that the
#: demo runs on any database (beside a served one, or again) and leaves one biller.
DEMO_BILLER = "cbp Demo Power & Light"


def run_demo(app: Cbp, say: Callable[[str], None] = print) -> dict[str, str]:
    """Create a tenant, a customer and four payments; return their final statuses."""
    tenant_id = app.handle(c.CreateTenant(name="Demo tour"))
    say(f"tenant        {tenant_id}")
    biller_id = _demo_biller(app)
    biller = app.queries.get_global_payee(biller_id)
    say(f"directory     {biller.name} ({biller.id})")
    customer_id = app.handle(
        c.CreateCustomer(
            tenant_id=tenant_id, external_id="demo-1", name="Ada Lovelace", email="ada@example.com"
        )
    )
    payee_id = app.handle(
        c.AddPayee(
            tenant_id=tenant_id,
            customer_id=customer_id,
            global_payee_id=biller.id,
            account_number="4417123456",
            nickname="Power bill",
        )
    )
    app.run_until_idle()
    payee = app.queries.get_payee(tenant_id, payee_id)
    say(
        f"payee         {payee.id} account {payee.account_number_masked} "
        f"{payee.verification_status}"
    )
    funding_id = app.handle(
        c.AddFundingAccount(
            tenant_id=tenant_id,
            customer_id=customer_id,
            routing_number="011000015",
            account_number="000123456789",
            account_type="checking",
            holder_name="Ada Lovelace",
        )
    )
    say(f"funding       {funding_id} verified")
    earliest = _earliest_send_on(app, tenant_id)
    payment_ids = {
        amount: app.handle(
            c.CreateOneTimePayment(
                tenant_id=tenant_id,
                customer_id=customer_id,
                payee_id=payee_id,
                funding_account_id=funding_id,
                amount=amount,
                send_on=earliest,
                memo=outcome,
            )
        )
        for amount, outcome in DEMO_AMOUNTS.items()
    }
    job_id = app.handle(
        c.StartProcessingJob(
            tenant_id=tenant_id, payment_ids=tuple(payment_ids.values()), send_now=True
        )
    )
    say(f"job           {job_id} sending {len(payment_ids)} payments now (send-on {earliest})")
    app.run_until_idle()
    app.handle(c.ReconcilePayments())
    app.run_until_idle()
    outcomes: dict[str, str] = {}
    for amount, payment_id in payment_ids.items():
        payment = app.queries.get_payment(tenant_id, payment_id)
        trail = " -> ".join(e.type for e in app.queries.payment_events(tenant_id, payment_id))
        say(f"payment       {amount:>6} USD {payment.status:<10} {trail}")
        outcomes[amount] = payment.status.value
    _, progress = app.queries.job_progress(tenant_id, job_id)
    say(
        f"job           {progress.status}: {progress.completed} completed, "
        f"{progress.returned} returned, {progress.failed} failed, {progress.pending} pending"
    )
    for exception in app.queries.list_exceptions(ExceptionFilter(tenant_id=tenant_id)).items:
        say(
            f"exception     {exception.id} {exception.kind} ({exception.reason_code}) "
            f"{exception.status}"
        )
    return outcomes


def _earliest_send_on(app: Cbp, tenant_id: str) -> date:
    """The tenant's earliest allowed send-on date (after cut-off and holidays)."""
    with app.deps.unit_of_work(read_only=True) as uow:
        tenant = uow.tenants.get(tenant_id)
    return tenant.policy.earliest_send_on(app.deps.clock.now(), app.deps.calendar.is_business_day)


def _demo_biller(app: Cbp) -> str:
    """The id of the demo's biller, added on the first run."""
    for biller in app.queries.search_directory(DEMO_BILLER, limit=100).items:
        if biller.name == DEMO_BILLER:
            return biller.id
    return str(
        app.handle(
            c.AddGlobalPayee(
                name=DEMO_BILLER,
                category="utilities",
                account_masks=("9999999999",),
                lead_days=2,
                address=c.Address(
                    line1="1 Market St", city="San Francisco", state="CA", postal_code="94105"
                ),
            )
        )
    )
