"""What the use cases need, handed in by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from cbp.domain.webhook_endpoint import DEFAULT_RETRY_SCHEDULE
from cbp.ports.broadcasts import Broadcast
from cbp.ports.notifiers import Notifier, WebhookSender
from cbp.ports.processor import PaymentProcessor
from cbp.ports.rate_limits import RateLimiter
from cbp.ports.storage.unit_of_work import UnitsOfWork
from cbp.ports.system import BusinessCalendar, Clock, IdGenerator
from cbp.ports.verifier import AccountVerifier
from cbp.services.directory_searches import DirectorySearches
from cbp.services.occurrences import OccurrenceMaker
from cbp.services.verified_keys import VerifiedKeys


@dataclass(frozen=True, kw_only=True)
class ServiceOptions:
    """Tunable behaviour of the use cases, from settings."""

    api_key_secret: bytes
    audit_key: bytes = b""
    max_notification_attempts: int = 8
    webhook_retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    webhook_pause_after_seconds: float = 5 * 24 * 3600.0
    webhook_secret_overlap_seconds: float = 24 * 3600.0
    #: Business days a mailed check takes to reach a payee paid by check.
    check_mailing_days: int = 5
    #: How long a customer has to confirm a funding account's micro-deposits.
    micro_deposit_expiry_seconds: float = 7 * 24 * 3600.0


@dataclass(frozen=True, kw_only=True)
class Dependencies:
    """Every port a handler may ask for, built once by the container.

    A handler names the ones it uses as keyword-only parameters (``clock``,
    ``verifier``...), and the command bus passes exactly those. Units of
    work reach handlers through the bus, which publishes what they record.
    """

    unit_of_work: UnitsOfWork
    clock: Clock
    ids: IdGenerator
    calendar: BusinessCalendar
    processor: PaymentProcessor
    verifier: AccountVerifier
    notifier: Notifier
    webhooks: WebhookSender
    directory_searches: DirectorySearches
    rate_limiter: RateLimiter
    key_revocations: Broadcast
    verified_keys: VerifiedKeys
    occurrences: OccurrenceMaker
    options: ServiceOptions
