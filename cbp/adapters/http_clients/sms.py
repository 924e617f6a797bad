"""Text messages through an HTTP SMS provider: ``POST {base}/v1/messages``."""

from __future__ import annotations

import httpx

from cbp.adapters.http_clients.client import send
from cbp.domain.notice_text import notice_text
from cbp.domain.notification import Notification
from cbp.ports.errors import DeliveryRejected
from cbp.ports.resilience import OutboundCall

DEPENDENCY = "sms"


class HttpSmsNotifier:
    """Sends ``{to, body, reference}``; the notification id is the idempotency key."""

    def __init__(self, client: httpx.Client, call: OutboundCall) -> None:
        self.client = client
        self.call = call

    def send(self, notification: Notification) -> None:
        """Deliver one text; a 4xx (a bad number) is ``DeliveryRejected``."""
        if not notification.recipient:
            raise DeliveryRejected(DEPENDENCY, "no phone number")
        body = {
            "to": notification.recipient,
            "body": notice_text(notification).line,
            "reference": notification.id,
        }

        def post(base: str) -> None:
            url = f"{base}/v1/messages"
            response = send(
                self.client,
                "POST",
                url,
                dependency=DEPENDENCY,
                json=body,
                headers={"Idempotency-Key": notification.id},
            )
            if response.status_code >= 400:
                raise DeliveryRejected(DEPENDENCY, f"HTTP {response.status_code} at {url}")

        self.call(post, retryable=True)
