"""The outside dependencies: where each is found, its resilience policy, its HTTP client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import time
from typing import TYPE_CHECKING, Any

from dependency_injector import providers

from cbp.adapters.notifiers.channels import ChannelNotifier
from cbp.adapters.resilience.breaker import BreakerSettings
from cbp.adapters.resilience.bulkhead import Bulkhead
from cbp.adapters.resilience.outbound import ResilientDependency, RetrySettings
from cbp.domain.customer import Channel
from cbp.ports.ach_ledger import AchLedger
from cbp.ports.discovery import ServiceRegistry
from cbp.ports.notifiers import Notifier
from cbp.ports.resilience import BreakerState, BreakerStore
from cbp.ports.storage.unit_of_work import UnitsOfWork
from cbp.ports.system import BusinessCalendar, Clock
from cbp.settings import Settings

if TYPE_CHECKING:
    import httpx

    from cbp.adapters.http_clients.client import HttpClientSettings


#: Told of every breaker's change of state (the core announces it on system.events).
BreakerListeners = list[Callable[[str, BreakerState, BreakerState], None]]


def service_registry(settings: Settings) -> ServiceRegistry:
    """Where each outside service is: ``CBP_<NAME>_URL``, a list, or DNS SRV."""
    locations: dict[str, str | None] = {
        name: ",".join(urls) for name, urls in settings.service_endpoints.items()
    }
    locations.update(
        processor=settings.processor_url or locations.get("processor"),
        verifier=settings.verifier_url or locations.get("verifier"),
        sms=settings.sms_url or locations.get("sms"),
    )
    from cbp.adapters.dns.discovery import ServiceDiscovery

    return ServiceDiscovery(locations, nameserver=settings.dns_nameserver)


def outbound_policy(
    name: str,
    *,
    settings: Settings,
    discovery: ServiceRegistry,
    store: BreakerStore,
    listeners: BreakerListeners,
    discovered: bool = True,
) -> ResilientDependency:
    """The resilience policy of one dependency: its own bulkhead and breakers.

    A dependency that is not ``discovered`` (email, webhooks) has one
    instance named after it: the address travels with each call.
    """

    def announce(breaker: str, old: BreakerState, new: BreakerState) -> None:
        for listener in listeners:
            listener(breaker, old, new)

    def endpoints() -> list[str]:
        return discovery.endpoints(name) if discovered else [name]

    return ResilientDependency(
        name,
        endpoints=endpoints,
        store=store,
        breaker=BreakerSettings(
            failure_threshold=settings.breaker_failure_threshold,
            reset_after_seconds=settings.breaker_reset_seconds,
            probe_timeout_seconds=max(30.0, settings.outbound_deadline_seconds),
        ),
        bulkhead=Bulkhead(
            name,
            max_concurrent=settings.bulkhead_max_concurrent,
            max_waiting=settings.bulkhead_max_waiting,
            wait_timeout_seconds=settings.bulkhead_wait_seconds,
        ),
        retry=RetrySettings(
            attempts=settings.outbound_retry_attempts,
            base_seconds=settings.outbound_retry_base_seconds,
            max_seconds=settings.outbound_retry_max_seconds,
            deadline_seconds=settings.outbound_deadline_seconds,
        ),
        on_change=announce,
    )


def policy_provider(
    name: str,
    settings: providers.Provider[Settings],
    discovery: providers.Provider[ServiceRegistry],
    store: providers.Provider[BreakerStore],
    listeners: providers.Provider[BreakerListeners],
    *,
    discovered: bool = True,
) -> providers.Singleton[ResilientDependency]:
    """A provider of one dependency's policy, built only if that dependency is used."""
    return providers.Singleton(
        outbound_policy,
        name,
        settings=settings,
        discovery=discovery,
        store=store,
        listeners=listeners,
        discovered=discovered,
    )


def client_settings(settings: Settings, name: str) -> HttpClientSettings:
    """Timeouts, credentials and TLS of one HTTP dependency, named in full."""
    from cbp.adapters.http_clients.client import HttpClientSettings

    s = settings
    if name == "processor":
        return HttpClientSettings(
            connect_timeout=s.processor_connect_timeout_seconds,
            read_timeout=s.processor_read_timeout_seconds,
            token=s.secret("processor_token"),
            client_cert=s.processor_client_cert,
            client_key=s.processor_client_key,
            ca_file=s.processor_ca_file,
        )
    if name == "verifier":
        return HttpClientSettings(
            connect_timeout=s.verifier_connect_timeout_seconds,
            read_timeout=s.verifier_read_timeout_seconds,
            token=s.secret("verifier_token"),
        )
    if name == "sms":
        return HttpClientSettings(
            connect_timeout=s.sms_connect_timeout_seconds,
            read_timeout=s.sms_read_timeout_seconds,
            token=s.secret("sms_token"),
        )
    if name == "webhook":
        return HttpClientSettings(
            connect_timeout=s.webhook_connect_timeout_seconds,
            read_timeout=s.webhook_read_timeout_seconds,
        )
    raise ValueError(f"no HTTP dependency named {name!r}")


def http_client(settings: Settings, name: str) -> Iterator[httpx.Client]:
    """One dependency's HTTP client (a container resource), closed at shutdown."""
    from cbp.adapters.http_clients.client import client_for_lifetime

    yield from client_for_lifetime(client_settings(settings, name))


def provider_notifier(
    settings: Settings,
    *,
    email_call: Callable[[], ResilientDependency],
    sms_call: Callable[[], ResilientDependency],
    sms_client: Callable[[], httpx.Client],
) -> Notifier:
    """Email over SMTP and SMS over HTTP, each where it is configured."""
    from cbp.adapters.http_clients.sms import HttpSmsNotifier
    from cbp.adapters.smtp.notifier import SmtpEmailNotifier, SmtpSettings

    channels: dict[Channel, Notifier] = {}
    if settings.smtp_host:
        smtp = SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            username=settings.smtp_username,
            password=settings.secret("smtp_password"),
            timeout_seconds=settings.smtp_timeout_seconds,
            require_tls=settings.smtp_require_tls,
            ca_file=settings.smtp_ca_file,
        )
        channels[Channel.EMAIL] = SmtpEmailNotifier(smtp, email_call())
    if settings.sms_url:
        channels[Channel.SMS] = HttpSmsNotifier(sms_client(), sms_call())
    return ChannelNotifier(channels)


def nacha_processor(
    settings: Settings, clock: Clock, calendar: BusinessCalendar, ledger: AchLedger
) -> Any:
    """The nacha processor, from the ``nacha_*`` settings, keeping its books in ``ledger``."""
    from cbp.adapters.nacha.processor import NachaPaymentProcessor, NachaSettings

    return NachaPaymentProcessor(
        clock,
        calendar.is_business_day,
        NachaSettings(
            odfi_routing=settings.nacha_odfi_routing,
            destination_routing=settings.nacha_destination_routing,
            destination_name=settings.nacha_destination_name,
            origin_id=settings.nacha_origin_id,
            origin_name=settings.nacha_origin_name,
            company_name=settings.nacha_company_name,
            company_id=settings.nacha_company_id,
            sec_code=settings.nacha_sec_code,
            cutoff_times=tuple(
                time.fromisoformat(t) for t in settings.nacha_cutoff_times.split(",")
            ),
        ),
        ledger=ledger,
        outbound_dir=settings.nacha_outbound_dir,
    )


def paid_by_method(
    settings: Settings, electronic: Any, clock: Clock, unit_of_work: UnitsOfWork
) -> Any:
    """The processor: ``electronic``, with checks printed by cbp beside it if settings say so."""
    if settings.checks != "printed":
        return electronic
    from cbp.adapters.checks.processor import CheckProcessor, by_payment_method

    checks = CheckProcessor(
        clock,
        unit_of_work,
        first_number=settings.check_first_number,
        outbound_dir=settings.check_outbound_dir,
    )
    return by_payment_method(electronic, checks)
