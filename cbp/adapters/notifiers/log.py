"""The embedded default notifier: writes each notification to the log."""

from __future__ import annotations

import logging

from cbp.domain.notification import Notification
from cbp.ports.errors import DeliveryRejected

logger = logging.getLogger("cbp.notifications")


class LogNotifier:
    """Delivers by logging; refuses a notification with no recipient."""

    def send(self, notification: Notification) -> None:
        """Log the notification: its id, channel, template and what fills it; never its recipient.

        The payload holds ids, statuses and codes only, never an account number.
        """
        if not notification.recipient:
            raise DeliveryRejected("log", f"no {notification.channel.value} recipient")
        logger.info(
            "notification %s sent on %s with template %s",
            notification.id,
            notification.channel.value,
            notification.template,
            extra={
                "notification_id": notification.id,
                "customer_id": notification.customer_id,
                "channel": notification.channel.value,
                "template": notification.template,
                "payload": notification.payload,
            },
        )
