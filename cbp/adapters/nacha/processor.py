"""The ``nacha`` processor: payments become ACH debits, filed at each cut-off for the bank.

A submission is taken into the originator's books (an ``AchLedger``: tables
of the deployment's database, shared by every process) and answered
``accepted``. At each cut-off
the pending entries are written into one NACHA file in the outbound
directory, the hand-off to the bank's transmission system: a PPD (or CCD)
batch of debits from the customers' funding accounts, and one of credits
for micro-deposits. A payment is settled once its batch's effective date
has come, unless the ODFI's return file says otherwise.

The ledger records each file before it is written, with the entries it
holds; a crash between the two is mended by writing the recorded file
again, byte for byte, under the same name. A file is never made twice
from the same entries, so nothing is sent twice. The files hold account
numbers in the clear, as the bank's files must: keep the directory private
(it is created with mode 0700, each file 0600). The ledger keeps them
encrypted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cbp.adapters.nacha import format as nacha
from cbp.adapters.nacha.codes import ACCOUNT_CHANGES, reason_of
from cbp.domain.calendar import IsBusinessDay, next_business_day
from cbp.domain.errors import InvalidInput
from cbp.ports.ach_ledger import AchFileRecord, AchLedger, Backlog, Filing, LedgerEntry
from cbp.ports.ach_originator import AchChange, AchReturn, AchReturns, HandOff
from cbp.ports.processor import Credit, ProcessorResult, ProcessorStatus, Submission
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.ports.system import Clock

#: Nacha's Micro-Entry rule: micro-deposits are described exactly so.
MICRO_ENTRY_DESCRIPTION = "ACCTVERIFY"


@dataclass(frozen=True, kw_only=True)
class NachaSettings:
    """Who the files come from and go to, and when the bank takes them."""

    odfi_routing: str
    destination_routing: str
    destination_name: str
    origin_id: str
    origin_name: str
    company_name: str
    company_id: str
    sec_code: str = "PPD"
    entry_description: str = "BILL PAY"
    cutoff_times: tuple[time, ...] = (time(16, 0),)
    timezone: str = "America/New_York"


class NachaPaymentProcessor:
    """Payments as ACH entries, filed in NACHA files at each cut-off; returns read back."""

    def __init__(
        self,
        clock: Clock,
        is_business_day: IsBusinessDay,
        settings: NachaSettings,
        *,
        ledger: AchLedger,
        outbound_dir: str,
    ) -> None:
        if settings.sec_code not in ("PPD", "CCD"):
            raise ValueError("the SEC code must be PPD or CCD")
        self.clock = clock
        self.is_business_day = is_business_day
        self.settings = settings
        self.outbound = Path(outbound_dir)
        self.outbound.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.ledger = ledger

    # -- the processor port --------------------------------------------------

    def submit(self, submission: Submission) -> ProcessorResult:
        """Take the payment as a debit for the next file; a repeat changes nothing."""
        self.ledger.take(self._debit(submission))
        return self.outcome(submission.reference)

    def submit_within(self, uow: UnitOfWork, submission: Submission) -> ProcessorResult:
        """Take the debit in ``uow``'s transaction: filed only if the payment's record commits.

        The answer is ``accepted``: the entry waits for the next file, and
        ``outcome`` tells the reconciler what became of it.
        """
        self.ledger.take(self._debit(submission), within=uow)
        return ProcessorResult(reference=submission.reference, status=ProcessorStatus.ACCEPTED)

    def _debit(self, submission: Submission) -> LedgerEntry:
        return self._entry(
            reference=submission.reference,
            tenant_id=submission.tenant_id,
            code=nacha.transaction_code(submission.funding_account_type, debit=True),
            routing=submission.funding_routing_number,
            account=submission.funding_account_number,
            cents=submission.amount.minor,
            name=submission.funding_holder_name or submission.payee_name,
        )

    def send_credit(self, credit: Credit) -> None:
        """Take a micro-deposit as a credit for the next file; a repeat changes nothing."""
        entry = self._entry(
            reference=credit.reference,
            tenant_id=credit.tenant_id,
            code=nacha.CHECKING_CREDIT,
            routing=credit.routing_number,
            account=credit.account_number,
            cents=credit.amount.minor,
            name=credit.holder_name or "ACCOUNT HOLDER",
        )
        self.ledger.take(entry)

    def outcome(self, reference: str) -> ProcessorResult:
        """Accepted until its file's effective date, settled from then, or returned."""
        standing = self.ledger.standing(reference)
        if standing is None:
            return ProcessorResult(reference=reference, status=ProcessorStatus.UNKNOWN)
        if standing.return_code is not None:
            return ProcessorResult(
                reference=reference,
                status=ProcessorStatus.RETURNED,
                failure_code=standing.return_code,
                reason=reason_of(standing.return_code),
            )
        if standing.effective_date is not None and standing.effective_date <= self._today():
            return ProcessorResult(reference=reference, status=ProcessorStatus.SETTLED)
        return ProcessorResult(reference=reference, status=ProcessorStatus.ACCEPTED)

    # -- files ---------------------------------------------------------------------

    def cut_off(self, at: datetime, *, now: bool = False) -> list[HandOff]:
        """File what is pending if a cut-off has passed (or ``now``); the files not yet announced.

        Files recorded but missing from the outbound directory (a crash
        after the record) are written again, the same bytes under the same
        name.
        """
        cut_off = self._cut_off_come(at)
        if now or cut_off is not None:
            local = at.astimezone(ZoneInfo(self.settings.timezone))
            self.ledger.file_pending(
                cut_off=cut_off,
                day_prefix=f"ach-{self.settings.odfi_routing}-{local:%Y%m%d}-",
                make=lambda backlog: self._make_file(at, backlog),
            )
        handed = []
        for recorded in self.ledger.unannounced():
            self._materialize(recorded.name, recorded.content)
            handed.append(
                HandOff(
                    name=recorded.name,
                    entries=recorded.entries,
                    total_debit_cents=recorded.total_debit_cents,
                    total_credit_cents=recorded.total_credit_cents,
                    effective_date=recorded.effective_date,
                    created_at=recorded.created_at,
                )
            )
        return handed

    def mark_announced(self, names: list[str]) -> None:
        """The hand-offs of these files were recorded: do not return them again."""
        self.ledger.mark_announced(names)

    def read_returns(self, content: str) -> AchReturns:
        """The returns and notifications of change in an ODFI's file, matched to their entries.

        A file that breaks any rule applies nothing: InvalidInput names the
        record and the rule. A return is noted in the ledger, so ``outcome``
        says so for a payment still being settled. Entries whose original
        trace number is none of this ledger's are named, not guessed at.
        """
        try:
            parsed = nacha.read(content)
        except nacha.NachaError as error:
            raise InvalidInput(f"the return file is not valid: {error}") from None
        returns: list[AchReturn] = []
        changes: list[AchChange] = []
        unmatched: list[str] = []
        noted: list[str] = []
        for batch in parsed.batches:
            for entry in batch.entries:
                addenda = entry.addenda
                if addenda is None:
                    unmatched.append(entry.trace_number)
                    continue
                found = self.ledger.by_trace(addenda.original_trace)
                if found is None:
                    unmatched.append(addenda.original_trace)
                    continue
                reference, tenant_id = found
                if addenda.type_code == "99":
                    self.ledger.note_return(reference, addenda.reason_code)
                    returns.append(
                        AchReturn(
                            reference=reference,
                            tenant_id=tenant_id,
                            trace_number=addenda.original_trace,
                            code=addenda.reason_code,
                            reason=reason_of(addenda.reason_code),
                        )
                    )
                elif addenda.reason_code in ACCOUNT_CHANGES:
                    changes.append(_change(reference, tenant_id, addenda))
                else:
                    noted.append(addenda.original_trace)
        return AchReturns(
            returns=tuple(returns),
            changes=tuple(changes),
            unmatched=tuple(unmatched),
            noted=tuple(noted),
        )

    def file(self, name: str) -> str:
        """A file's content as recorded (what was handed to the bank)."""
        recorded = self.ledger.file(name)
        if recorded is None:
            raise LookupError(f"no ACH file {name}")
        return recorded.content

    # -- internals -------------------------------------------------------------

    def _entry(
        self,
        *,
        reference: str,
        tenant_id: str,
        code: int,
        routing: str,
        account: str,
        cents: int,
        name: str,
    ) -> LedgerEntry:
        return LedgerEntry(
            reference=reference,
            tenant_id=tenant_id,
            transaction_code=code,
            routing_number=routing,
            account_number=account,
            amount_cents=cents,
            name=name,
            taken_at=self.clock.now(),
        )

    def _today(self) -> date:
        return self.clock.now().astimezone(ZoneInfo(self.settings.timezone)).date()

    def _cut_off_come(self, at: datetime) -> str | None:
        """Today's latest cut-off time that has come and has not been taken yet, if any."""
        local = at.astimezone(ZoneInfo(self.settings.timezone))
        come = [
            datetime.combine(local.date(), t, local.tzinfo).isoformat()
            for t in self.settings.cutoff_times
            if t <= local.time()
        ]
        if not come:
            return None
        latest = max(come)
        return None if self.ledger.cut_off_taken(latest) else latest

    def _make_file(self, at: datetime, backlog: Backlog) -> Filing:
        """The file of a backlog: a batch of debits and one of micro-deposit credits."""
        s = self.settings
        local = at.astimezone(ZoneInfo(s.timezone))
        effective = next_business_day(local.date() + timedelta(days=1), self.is_business_day)
        modifier = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[backlog.files_today % 36]
        name = f"ach-{s.odfi_routing}-{local:%Y%m%d-%H%M%S}-{modifier}.ach"
        debits: list[nacha.Entry] = []
        credits: list[nacha.Entry] = []
        traces: dict[str, str] = {}
        for offset, taken in enumerate(backlog.pending, start=1):
            trace = f"{s.odfi_routing[:8]}{(backlog.traced + offset) % 10**7:07d}"
            entry = nacha.Entry(
                transaction_code=taken.transaction_code,
                routing_number=taken.routing_number,
                account_number=taken.account_number,
                amount_cents=taken.amount_cents,
                individual_id=taken.reference[-15:],
                individual_name=taken.name,
                trace_number=trace,
            )
            (debits if entry.is_debit else credits).append(entry)
            traces[taken.reference] = trace
        described = [
            (description, entries)
            for description, entries in (
                (s.entry_description, debits),
                (MICRO_ENTRY_DESCRIPTION, credits),
            )
            if entries
        ]
        batches = tuple(
            nacha.Batch(
                sec_code=s.sec_code,
                company_name=s.company_name,
                company_id=s.company_id,
                entry_description=description,
                effective_date=effective,
                odfi=s.odfi_routing[:8],
                number=number,
                entries=tuple(entries),
            )
            for number, (description, entries) in enumerate(described, start=1)
        )
        content = nacha.write(
            nacha.NachaFile(
                destination_routing=s.destination_routing,
                origin_id=s.origin_id,
                destination_name=s.destination_name,
                origin_name=s.origin_name,
                created_at=local.replace(tzinfo=None),
                file_id_modifier=modifier,
                batches=batches,
            )
        )
        totals = nacha.check(content)
        return Filing(
            AchFileRecord(
                name=name,
                created_at=at,
                content=content,
                entries=len(backlog.pending),
                total_debit_cents=totals.total_debit,
                total_credit_cents=totals.total_credit,
                effective_date=effective,
            ),
            traces,
        )

    def _materialize(self, name: str, content: str) -> None:
        """Write a recorded file into the outbound directory, atomically, if it is not there."""
        path = self.outbound / name
        if path.exists():
            return
        partial = path.with_suffix(".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)


def _change(reference: str, tenant_id: str, addenda: nacha.Addenda) -> AchChange:
    """A notification of change, its corrected data read by its C code's layout."""
    data, code = addenda.corrected_data, addenda.reason_code
    routing = account = account_type = name = None
    if code == "C01":
        account = data[:17].strip()
    elif code == "C02":
        routing = data[:9].strip()
    elif code == "C03":
        routing, account = data[:9].strip(), data[12:29].strip()
    elif code == "C04":
        name = data[:22].strip()
    elif code == "C05":
        account_type = nacha.account_type_of(int(data[:2]))
    elif code == "C06":
        account, account_type = data[:17].strip(), nacha.account_type_of(int(data[20:22]))
    elif code == "C07":
        routing, account = data[:9].strip(), data[9:26].strip()
        account_type = nacha.account_type_of(int(data[26:28]))
    return AchChange(
        reference=reference,
        tenant_id=tenant_id,
        trace_number=addenda.original_trace,
        code=code,
        routing_number=routing,
        account_number=account,
        account_type=account_type,
        holder_name=name,
    )
