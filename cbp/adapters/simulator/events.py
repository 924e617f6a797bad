"""The simulator pushing its outcomes to cbp, as a processor does: signed events.

Each payment it took is announced once its outcome is final:
``payment.settled``, ``payment.failed``, or ``payment.settled`` then
``payment.returned``. Events are signed per Standard Webhooks and posted
until cbp answers 2xx; an event id is the reference and the type, so a
repeat (after a restart, say) is one cbp has seen and ignores.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping

import httpx

from cbp.adapters.simulator.processor import SimulatedPaymentProcessor
from cbp.domain.webhook_signature import sign
from cbp.ports.processor import ProcessorResult, ProcessorStatus

logger = logging.getLogger("cbp.simulator")

#: The events that announce each final outcome, in the order they are sent.
ANNOUNCED = {
    ProcessorStatus.SETTLED: ("payment.settled",),
    ProcessorStatus.FAILED: ("payment.failed",),
    ProcessorStatus.RETURNED: ("payment.settled", "payment.returned"),
}


class EventPusher:
    """Posts each taken payment's final outcome to ``url``, signed with ``secret``."""

    def __init__(
        self,
        processor: SimulatedPaymentProcessor,
        tenants: Mapping[str, str],
        *,
        url: str,
        secret: str,
        interval_seconds: float = 0.5,
    ) -> None:
        self.processor = processor
        self.tenants = tenants
        self.url = url
        self.secret = secret
        self.interval = interval_seconds
        self.delivered: set[str] = set()
        self._finished: set[str] = set()
        self._stopping = threading.Event()
        self._client = httpx.Client(timeout=5.0)

    def start(self) -> None:
        """Push in a background thread until ``stop``."""
        threading.Thread(target=self._run, name="simulator-events", daemon=True).start()

    def stop(self) -> None:
        """Stop pushing."""
        self._stopping.set()

    def push_due(self) -> int:
        """Send every final outcome not delivered yet; return how many landed."""
        landed = 0
        for reference in self.processor.taken():
            if reference in self._finished or reference not in self.tenants:
                continue  # NOTE: a tenant unknown (taken before a restart): the reconciler's
            result = self.processor.outcome(reference)
            types = ANNOUNCED.get(result.status)
            if types is None:
                continue  # NOTE: not final yet
            for event_type in types:
                event_id = f"evt_{reference}_{event_type.split('.')[1]}"
                if event_id in self.delivered:
                    continue
                if not self._post(event_id, event_type, result):
                    break  # NOTE: in order: a return never lands before its settlement
                self.delivered.add(event_id)
                landed += 1
            else:
                self._finished.add(reference)
        return landed

    def _post(self, event_id: str, event_type: str, result: ProcessorResult) -> bool:
        body = json.dumps(
            {
                "type": event_type,
                "data": {
                    "reference": result.reference,
                    "tenant_id": self.tenants[result.reference],
                    "failure_code": result.failure_code if event_type == "payment.failed" else None,
                    "return_code": result.failure_code
                    if event_type == "payment.returned"
                    else None,
                    "reason": result.reason,
                },
            }
        ).encode()
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": event_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(self.secret, message_id=event_id, timestamp=stamp, body=body),
        }
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            logger.warning("event not delivered: %s", type(error).__name__)
            return False
        if response.status_code >= 300:
            logger.warning("event %s refused: HTTP %s", event_id, response.status_code)
            return False
        return True

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.push_due()
            except Exception:  # NOTE: a bad round is logged; the next one tries again
                logger.exception("pushing events failed")
