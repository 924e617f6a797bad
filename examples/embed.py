"""Embed the cbp core in your own application, with an adapter of your own.

Run it: ``python examples/embed.py``. It pays a bill on the in-memory
adapters and swaps in its own notifier, the way an embedding application
plugs in its SMS gateway, push service or CRM.
"""

from __future__ import annotations

from cbp.bootstrap import bootstrap
from cbp.domain.notification import Notification
from cbp.services import commands as c
from cbp.settings import Settings


class PrintingNotifier:
    """An embedder's own notifier: anything with ``send(notification)`` will do."""

    def send(self, notification: Notification) -> None:
        print(
            f"notify {notification.channel}: payment {notification.payload['payment_id']} "
            f"needs attention ({notification.payload['reason_code']})"
        )


def main() -> None:
    # In-memory storage for the example; leave database_url out to use SQLite in ./cbp.db.
    app = bootstrap(Settings(database_url="memory://"), notifier=PrintingNotifier())
    tenant = app.handle(c.CreateTenant(name="My Credit Union"))
    customer = app.handle(
        c.CreateCustomer(
            tenant_id=tenant, external_id="member-7", name="Grace", email="g@example.com"
        )
    )
    biller = app.handle(
        c.AddGlobalPayee(
            name="Metro Water",
            category="utilities",
            account_masks=("99999999",),
            address=c.Address(line1="1 Dam Rd", city="Metro", state="NY", postal_code="10001"),
        )
    )
    payee = app.handle(
        c.AddPayee(
            tenant_id=tenant,
            customer_id=customer,
            global_payee_id=biller,
            account_number="12345678",
        )
    )
    account = app.handle(
        c.AddFundingAccount(
            tenant_id=tenant,
            customer_id=customer,
            routing_number="021000021",
            account_number="55555555",
            account_type="checking",
            holder_name="Grace",
        )
    )
    app.run_until_idle()  # verifies the payee's account in the background
    payment_ids = [
        app.handle(
            c.CreateOneTimePayment(
                tenant_id=tenant,
                customer_id=customer,
                payee_id=payee,
                funding_account_id=account,
                amount=amount,
            )
        )
        for amount in ("80.00", "80.13")  # .13 makes the simulator decline: insufficient funds
    ]
    send_on = app.queries.get_payment(tenant, payment_ids[0]).send_on
    # Before the tenant's cut-off this is today and processing is already queued;
    # after it, the payment waits. Your scheduler runs this sweep every business day:
    app.handle(c.QueueDuePayments(on=send_on))
    app.run_until_idle()
    for payment_id in payment_ids:
        payment = app.queries.get_payment(tenant, payment_id)
        print(f"payment {payment.amount} {payment.status}")
    app.close()


if __name__ == "__main__":
    main()
