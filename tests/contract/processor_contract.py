"""What every payment processor promises, whatever moves the money.

Each processor is given a submission (with a mailing address, which only
the check processor uses) and asked for its outcome. A repeat of a
reference moves no more money and changes no answer; a reference never
submitted is UNKNOWN; an accepted submission's outcome is known from then on.
"""

from __future__ import annotations

from decimal import Decimal

from cbp.domain.directory import Address
from cbp.domain.money import Money
from cbp.ports.processor import PaymentProcessor, ProcessorStatus, Submission

#: What the processor may answer a submission it took.
TAKEN = {ProcessorStatus.ACCEPTED, ProcessorStatus.SETTLED}


def submission(reference: str, amount: str = "42.00") -> Submission:
    return Submission(
        reference=reference,
        tenant_id="ten_1",
        amount=Money.of(Decimal(amount), "USD"),
        payee_id="pye_1",
        payee_name="Jane's Lawn Care",
        payee_account_number="55501",
        funding_account_id="fac_1",
        funding_routing_number="021000021",
        funding_account_number="000123456789",
        deliver_by="2026-03-09",
        funding_holder_name="Ada Lovelace",
        mail_to=Address(line1="2 Elm St", city="Springfield", state="IL", postal_code="62704"),
    )


class ProcessorContract:
    """Run with a ``processor`` fixture: a processor ready to take submissions."""

    def test_a_submission_is_taken_and_its_outcome_known_from_then_on(
        self, processor: PaymentProcessor
    ) -> None:
        answer = processor.submit(submission("pmt_contract_1"))
        assert answer.reference == "pmt_contract_1"
        assert answer.status in TAKEN
        assert processor.outcome("pmt_contract_1").status in TAKEN

    def test_a_repeated_reference_changes_no_answer(self, processor: PaymentProcessor) -> None:
        first = processor.submit(submission("pmt_contract_2"))
        again = processor.submit(submission("pmt_contract_2"))
        assert (again.reference, again.status) == (first.reference, first.status)
        assert processor.outcome("pmt_contract_2").status == first.status

    def test_a_reference_never_submitted_is_unknown(self, processor: PaymentProcessor) -> None:
        processor.submit(submission("pmt_contract_3"))
        assert processor.outcome("pmt_contract_never").status is ProcessorStatus.UNKNOWN
