"""Making a recurring schedule's due occurrences into payments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cbp.domain.errors import DomainError
from cbp.domain.recurring import RecurringSchedule, ScheduleStatus
from cbp.domain.schedule_rules import Occurrence
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.ports.system import BusinessCalendar, IdGenerator
from cbp.services.payments import check_payable, open_payment


@dataclass(frozen=True)
class OccurrenceMaker:
    """Turns each occurrence due within ``days_ahead`` days into a payment.

    Every change to a schedule ends here, as does the periodic job: an
    occurrence already inside the window is paid as soon as it is.
    """

    ids: IdGenerator
    calendar: BusinessCalendar
    #: How many days before its send-on date an occurrence becomes a payment.
    days_ahead: int = 3

    def due_by(self, now: datetime) -> date:
        """The latest send-on date whose occurrences may be due anywhere at ``now``.

        A day more than the days ahead: a tenant's day may be ahead of UTC's.
        """
        return now.date() + timedelta(days=self.days_ahead + 1)

    def make_due_and_save(
        self, uow: UnitOfWork, schedule: RecurringSchedule, *, at: datetime
    ) -> int:
        """Make the schedule's occurrences due within the days ahead, then save it; how many.

        An occurrence that cannot become a payment (its payee no longer
        payable, the customer's limit reached) is recorded as missed, with
        the reason, and the schedule goes on to the next.
        """
        is_business_day = self.calendar.is_business_day
        made = 0
        if schedule.status is ScheduleStatus.ACTIVE:
            policy = uow.tenants.get(schedule.tenant_id).policy
            horizon = policy.local_now(at).date() + timedelta(days=self.days_ahead)
            while (occurrence := schedule.next_occurrence(is_business_day)) is not None:
                if schedule.status is not ScheduleStatus.ACTIVE or occurrence.send_on > horizon:
                    break
                try:
                    payment_id = self._make_payment(uow, schedule, occurrence, at=at)
                except DomainError as error:
                    schedule.record_missed(
                        occurrence,
                        code=error.code,
                        reason=error.detail,
                        at=at,
                        is_business_day=is_business_day,
                    )
                else:
                    schedule.record_created(
                        occurrence, payment_id=payment_id, at=at, is_business_day=is_business_day
                    )
                    made += 1
        uow.schedules.save(schedule, is_business_day)
        return made

    def _make_payment(
        self,
        uow: UnitOfWork,
        schedule: RecurringSchedule,
        occurrence: Occurrence,
        *,
        at: datetime,
    ) -> str:
        """One occurrence's payment, after the checks any payment passes.

        Made late (the job was down), it goes on the earliest date left. A date
        moved off the rule's own says so in ``requested_send_on``, as a
        one-time payment's does.
        """
        amount = occurrence.amount
        parties = uow.parties.for_payment(
            schedule.tenant_id, schedule.customer_id, schedule.payee_id, schedule.funding_account_id
        )
        check_payable(parties, accept_pending_payee=True)
        policy = parties.tenant.policy
        policy.check_amount(amount)
        earliest = policy.earliest_send_on(at, self.calendar.is_business_day)
        payment = open_payment(
            uow,
            parties,
            amount=amount,
            send_on=max(occurrence.send_on, earliest),
            requested_send_on=occurrence.requested_send_on,
            memo=schedule.memo,
            ids=self.ids,
            calendar=self.calendar,
            at=at,
        )
        return payment.id
