"""One notifier per channel behind the Notifier port."""

from __future__ import annotations

from collections.abc import Mapping

from cbp.domain.customer import Channel
from cbp.domain.notification import Notification
from cbp.ports.errors import DeliveryRejected
from cbp.ports.notifiers import Notifier


class ChannelNotifier:
    """Sends each notification through the notifier of its channel."""

    def __init__(self, channels: Mapping[Channel, Notifier]) -> None:
        self.channels = dict(channels)

    def send(self, notification: Notification) -> None:
        """Deliver on the notification's channel; a channel not set up is a refusal."""
        notifier = self.channels.get(notification.channel)
        if notifier is None:
            raise DeliveryRejected(notification.channel.value, "this channel is not configured")
        notifier.send(notification)
