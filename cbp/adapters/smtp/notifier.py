"""Email over SMTP, upgraded with STARTTLS whenever the server offers it."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from cbp.domain.notice_text import notice_text
from cbp.domain.notification import Notification
from cbp.ports.errors import DeliveryRejected, DependencyTimeout, DependencyUnavailable
from cbp.ports.resilience import OutboundCall

DEPENDENCY = "email"


@dataclass(frozen=True, kw_only=True)
class SmtpSettings:
    """The mail server and how to talk to it."""

    host: str
    port: int = 587
    sender: str = "cbp@localhost"
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 10.0
    require_tls: bool = False
    ca_file: str | None = None


class SmtpEmailNotifier:
    """Sends each email notification as one SMTP transaction."""

    def __init__(self, settings: SmtpSettings, call: OutboundCall) -> None:
        self.settings = settings
        self.call = call

    def send(self, notification: Notification) -> None:
        """Deliver to the notification's recipient; a refused address is ``DeliveryRejected``."""
        if not notification.recipient:
            raise DeliveryRejected(DEPENDENCY, "no email recipient")
        text = notice_text(notification)
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = notification.recipient
        message["Subject"] = text.subject
        message["Message-ID"] = f"<{notification.id}@cbp>"
        message.set_content(text.body + "\n")
        # NOTE: not retried here: a repeat could send the mail twice; the delivery retries
        self.call(lambda _: self._deliver(message), retryable=False)

    def _deliver(self, message: EmailMessage) -> None:
        s = self.settings
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds) as smtp:
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    context = ssl.create_default_context(cafile=s.ca_file)
                    smtp.starttls(context=context)
                    smtp.ehlo()
                elif s.require_tls:
                    raise DependencyUnavailable(DEPENDENCY, "the server does not offer STARTTLS")
                if s.username and s.password:
                    smtp.login(s.username, s.password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryRejected(DEPENDENCY, "the server refused the recipient") from None
        except TimeoutError:
            raise DependencyTimeout(DEPENDENCY, "the mail server did not answer") from None
        except (OSError, smtplib.SMTPException) as error:
            raise DependencyUnavailable(DEPENDENCY, type(error).__name__) from None
