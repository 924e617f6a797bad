"""Read-only use cases: what the API's GET endpoints return."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import date
from typing import TypeVar

from cbp.domain.access import ApiKey
from cbp.domain.audit import AuditEntry
from cbp.domain.autopay import AutopayRule
from cbp.domain.bill import Bill
from cbp.domain.check import Check
from cbp.domain.customer import Customer, Tenant
from cbp.domain.delivery_quote import DeliveryQuote, quote_delivery
from cbp.domain.directory import GlobalPayee
from cbp.domain.errors import InvalidInput, NotFound
from cbp.domain.events import DomainEvent
from cbp.domain.funding import FundingAccount
from cbp.domain.notification import Notification
from cbp.domain.payee import Payee
from cbp.domain.payment import Payment
from cbp.domain.payment_exception import PaymentException
from cbp.domain.processing import JobProgress, ProcessJob
from cbp.domain.recurring import RecurringSchedule
from cbp.domain.schedule_rules import Occurrence
from cbp.domain.webhook_endpoint import WebhookEndpoint
from cbp.ports.messages import Delivery
from cbp.ports.storage.bills import BillFilter
from cbp.ports.storage.notices import ExceptionFilter
from cbp.ports.storage.pages import Page
from cbp.ports.storage.payments import PaymentFilter, ScheduleFilter
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitsOfWork
from cbp.ports.system import BusinessCalendar, Clock
from cbp.services.directory_searches import DOMAIN_PAGES, DirectorySearches, PageForm

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Queries:
    """Every read a caller may make, bound to the ports and options the reads use.

    Each read is a transaction of its own, unless the queries are
    ``within`` a unit of work: a request's, whose command the reads follow
    and whose uncommitted changes they must see.
    """

    unit_of_work: UnitsOfWork
    clock: Clock
    calendar: BusinessCalendar
    directory_searches: DirectorySearches
    default_page_size: int
    max_page_size: int
    #: The unit of work the reads are made in, if not each in its own.
    uow: UnitOfWork | None = None

    def within(self, uow: UnitOfWork) -> Queries:
        """The same reads, made in ``uow`` (which its owner commits or rolls back)."""
        return replace(self, uow=uow)

    def _reading(self) -> AbstractContextManager[UnitOfWork]:
        """The unit of work to read in: the one the queries are within, or a new one."""
        return nullcontext(self.uow) if self.uow is not None else self.unit_of_work(read_only=True)

    def search_directory(
        self, partial_name: str, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[GlobalPayee]:
        """Billers matching a partial name, prefix matches first (cached)."""
        return self.search_directory_as(DOMAIN_PAGES, partial_name, cursor=cursor, limit=limit)

    def search_directory_as(
        self,
        form: PageForm[T],
        partial_name: str,
        *,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> T:
        """The same search, its page cached and returned in ``form`` (a rendered response)."""
        return self.directory_searches.search(
            partial_name,
            cursor=cursor,
            limit=self.page_size(limit),
            reading=self._reading,
            form=form,
        )

    def get_global_payee(self, global_payee_id: str) -> GlobalPayee:
        """One biller of the directory."""
        with self._reading() as uow:
            return uow.directory.get(global_payee_id)

    def dead_letters(self, *, tenant_id: str | None = None, limit: int = 100) -> list[Delivery]:
        """Deliveries that ran out of attempts, oldest first; only one tenant's if named."""
        with self._reading() as uow:
            return uow.deliveries.dead_letters(limit=limit, tenant_id=tenant_id)

    def dead_letter(self, tenant_id: str | None, delivery_id: str) -> Delivery:
        """A delivery by id: a tenant's own (another's is not found), or any for None."""
        with self._reading() as uow:
            delivery = uow.deliveries.get(delivery_id)
        if tenant_id is not None and delivery.message.headers.tenant_id != tenant_id:
            raise NotFound("delivery", delivery_id)
        return delivery

    def job_progress(self, tenant_id: str, job_id: str) -> tuple[ProcessJob, JobProgress]:
        """A processing job and its counts by outcome."""
        with self._reading() as uow:
            job = uow.jobs.get(tenant_id, job_id)
            statuses = uow.payments.statuses(tenant_id, job.payment_ids)
        return job, JobProgress.of(statuses)

    def list_recurring_payments(
        self, query: ScheduleFilter, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[RecurringSchedule]:
        """A tenant's recurring payments matching ``query``, newest first."""
        with self._reading() as uow:
            return uow.schedules.find(query, cursor=cursor, limit=self.page_size(limit))

    def get_recurring_payment(self, tenant_id: str, schedule_id: str) -> RecurringSchedule:
        """One recurring payment, as its read model holds it."""
        with self._reading() as uow:
            return uow.schedules.view(tenant_id, schedule_id)

    def upcoming_occurrences(
        self, schedule: RecurringSchedule, *, limit: int = 3
    ) -> list[Occurrence]:
        """The next occurrences a recurring payment will make, soonest first (no read)."""
        return schedule.upcoming(self.calendar.is_business_day, limit)

    def recurring_payment_events(self, tenant_id: str, schedule_id: str) -> list[DomainEvent]:
        """A recurring payment's history: every occurrence made, skipped, changed or missed."""
        with self._reading() as uow:
            uow.schedules.view(tenant_id, schedule_id)
            return uow.events.load(schedule_id)

    def page_size(self, limit: int | None) -> int:
        """The page size to use: the default when none is asked, else checked."""
        if limit is None:
            return self.default_page_size
        if not 1 <= limit <= self.max_page_size:
            raise InvalidInput(f"limit must be between 1 and {self.max_page_size}")
        return limit

    def get_customer(self, tenant_id: str, customer_id: str) -> Customer:
        """One customer of the tenant."""
        with self._reading() as uow:
            return uow.customers.get(tenant_id, customer_id)

    def get_payee(self, tenant_id: str, payee_id: str) -> Payee:
        """One payee of the tenant."""
        with self._reading() as uow:
            return uow.payees.get(tenant_id, payee_id)

    def quote_delivery(
        self,
        tenant_id: str,
        payee_id: str,
        *,
        send_on: date | None = None,
        due_on: date | None = None,
    ) -> DeliveryQuote:
        """When a payment to a payee, sent on a date (or the earliest), would arrive."""
        with self._reading() as uow:
            tenant = uow.tenants.get(tenant_id)
            payee = uow.payees.get(tenant_id, payee_id)
        return quote_delivery(
            payee,
            tenant.policy,
            now=self.clock.now(),
            is_business_day=self.calendar.is_business_day,
            send_on=send_on,
            due_on=due_on,
        )

    def list_payees(
        self,
        tenant_id: str,
        *,
        customer_id: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[Payee]:
        """The tenant's payees, optionally of one customer."""
        with self._reading() as uow:
            return uow.payees.find(
                tenant_id, customer_id=customer_id, cursor=cursor, limit=self.page_size(limit)
            )

    def get_funding_account(self, tenant_id: str, account_id: str) -> FundingAccount:
        """One funding account of the tenant."""
        with self._reading() as uow:
            return uow.funding_accounts.get(tenant_id, account_id)

    def list_bills(
        self, query: BillFilter, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[Bill]:
        """A tenant's bills matching ``query``, newest first."""
        with self._reading() as uow:
            return uow.bills.find(query, cursor=cursor, limit=self.page_size(limit))

    def get_bill(self, tenant_id: str, bill_id: str) -> Bill:
        """One bill, as its read model holds it."""
        with self._reading() as uow:
            return uow.bills.view(tenant_id, bill_id)

    def bill_events(self, tenant_id: str, bill_id: str) -> list[DomainEvent]:
        """A bill's history: presented, corrected, paid, past due."""
        with self._reading() as uow:
            uow.bills.view(tenant_id, bill_id)
            return uow.events.load(bill_id)

    def get_autopay(self, tenant_id: str, payee_id: str) -> AutopayRule:
        """A payee's autopay rule; NotFound if it has none."""
        with self._reading() as uow:
            uow.payees.get(tenant_id, payee_id)
            rule = uow.autopay.get(tenant_id, payee_id)
        if rule is None:
            raise NotFound("autopay rule of payee", payee_id)
        return rule

    def get_check(self, tenant_id: str, payment_id: str) -> Check:
        """The check that pays a payment; NotFound if it is paid otherwise."""
        with self._reading() as uow:
            payment = uow.payments.view(tenant_id, payment_id)
            check = uow.checks.get(payment.processor_reference or payment.id)
        if check is None or check.tenant_id != tenant_id:
            raise NotFound("check of payment", payment_id)
        return check

    def get_payment(self, tenant_id: str, payment_id: str) -> Payment:
        """One payment, from its read model."""
        with self._reading() as uow:
            return uow.payments.view(tenant_id, payment_id)

    def payment_events(self, tenant_id: str, payment_id: str) -> list[DomainEvent]:
        """A payment's full event history: its audit trail."""
        with self._reading() as uow:
            uow.payments.view(tenant_id, payment_id)
            return uow.events.load(payment_id)

    def payment_audit(self, tenant_id: str, payment_id: str) -> list[AuditEntry]:
        """Who did what to a payment, from the audit log, oldest first (chained entries only)."""
        with self._reading() as uow:
            uow.payments.view(tenant_id, payment_id)
            return uow.audit.for_subject(payment_id, tenant_id=tenant_id)

    def audit_trail(self, subject_id: str) -> list[AuditEntry]:
        """Every chained audit entry about one record, whatever its tenant: for operators."""
        with self._reading() as uow:
            return uow.audit.for_subject(subject_id, tenant_id=None)

    def list_payments(
        self, query: PaymentFilter, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[Payment]:
        """A tenant's payments matching ``query``, newest first."""
        with self._reading() as uow:
            return uow.payments.find(query, cursor=cursor, limit=self.page_size(limit))

    def get_exception(self, tenant_id: str, exception_id: str) -> PaymentException:
        """One payment exception."""
        with self._reading() as uow:
            return uow.exceptions.get(tenant_id, exception_id)

    def exception_notifications(
        self, tenant_id: str, exception_ids: list[str]
    ) -> dict[str, list[str]]:
        """The ids of the notifications each exception sent its customer, oldest first."""
        with self._reading() as uow:
            return uow.notifications.of_exceptions(tenant_id, exception_ids)

    def list_exceptions(
        self, query: ExceptionFilter, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[PaymentException]:
        """A tenant's exceptions matching ``query``, newest first."""
        with self._reading() as uow:
            return uow.exceptions.find(query, cursor=cursor, limit=self.page_size(limit))

    def get_notification(self, tenant_id: str, notification_id: str) -> Notification:
        """One notification and its delivery state."""
        with self._reading() as uow:
            return uow.notifications.get(tenant_id, notification_id)

    def webhook_endpoint(self, tenant_id: str) -> WebhookEndpoint:
        """The tenant's webhook endpoint, or NotFound."""
        with self._reading() as uow:
            endpoint = uow.webhook_endpoints.for_tenant(tenant_id)
        if endpoint is None:
            raise NotFound("webhook endpoint", tenant_id)
        return endpoint

    def api_keys(self, tenant_id: str | None = None) -> list[ApiKey]:
        """Every API key (one tenant's, if named), oldest first."""
        with self._reading() as uow:
            return uow.api_keys.list(tenant_id)

    def tenants(self) -> list[Tenant]:
        """Every tenant, oldest first."""
        with self._reading() as uow:
            return uow.tenants.list()
