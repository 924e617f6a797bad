"""The composition root: builds adapters from settings and wires the core.

Only entry points, ``bootstrap`` and tests touch this module. Each port is
a provider; ``Selector`` picks the adapter a setting names, and tests or
embedders replace any of them with ``container.<port>.override(...)``.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import time
from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers
from sqlalchemy import Engine

from cbp.adapters.calendar.federal_reserve import FederalReserveCalendar
from cbp.adapters.http.networks import allowed_networks
from cbp.adapters.memory.breakers import InMemoryBreakerStore
from cbp.adapters.memory.database import InMemoryDatabase
from cbp.adapters.memory.outside import (
    InMemoryBroker,
    InMemoryCache,
    InMemoryNotifier,
)
from cbp.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cbp.adapters.resilience.breaker import BreakerSettings
from cbp.adapters.resilience.bulkhead import Bulkhead
from cbp.adapters.resilience.outbound import ResilientDependency, RetrySettings
from cbp.adapters.rules.verifier import RulesAccountVerifier
from cbp.adapters.simulator.processor import SimulatedPaymentProcessor
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.setup import local_secrets, open_engine
from cbp.adapters.sql.unit_of_work import SqlAlchemyUnitOfWork
from cbp.adapters.system.channels import ChannelNotifier
from cbp.adapters.system.clock import SystemClock, UuidV7IdGenerator
from cbp.adapters.system.log_notifier import LogNotifier
from cbp.domain.customer import Channel
from cbp.ports.outside import Notifier, ServiceRegistry
from cbp.ports.resilience import BreakerState, BreakerStore
from cbp.ports.system import BusinessCalendar, Clock
from cbp.services.bus import CommandBus
from cbp.services.dependencies import Dependencies, ServiceOptions
from cbp.services.outbox import EventPublisher
from cbp.services.queries import Queries
from cbp.services.routing import MessageRouter
from cbp.services.transaction import JoiningUnitsOfWork
from cbp.settings import ConfigurationError, Settings

if TYPE_CHECKING:
    import dramatiq
    import httpx
    import redis

    from cbp.adapters.http.client import HttpClientSettings


def lazy(path: str) -> Callable[..., Any]:
    """The class or function at ``module:name``, imported the first time it is called.

    Adapters a process is not configured to use (a broker, Redis, HTTP
    clients, DNS discovery) are then never imported: they cost it no memory.
    """
    module, _, name = path.partition(":")

    def build(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    build.__qualname__ = build.__name__ = name
    return build


class OnFirstUse:
    """A port whose adapter is built the first time the port is used.

    For a port every process is handed and few use (the webhook sender):
    its HTTP client and library load only in a process that sends.
    """

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._adapter: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if self._adapter is None:
            with self._lock:
                if self._adapter is None:
                    self._adapter = self._build()
        return getattr(self._adapter, name)


@dataclass(frozen=True)
class Secrets:
    """The server secret for API keys and the keys that encrypt account numbers."""

    api_key_secret: bytes
    encryption_keys: list[str]
    audit_key_setting: bytes | None = None

    @property
    def audit_key(self) -> bytes:
        """The key of the audit chain: ``CBP_AUDIT_KEY``, else derived from the server secret."""
        if self.audit_key_setting:
            return self.audit_key_setting
        return hmac.new(self.api_key_secret, b"cbp audit chain", hashlib.sha256).digest()

    @property
    def cursor_key(self) -> bytes:
        """The key that signs the API's page cursors, derived from the server secret."""
        return hmac.new(self.api_key_secret, b"cbp page cursors", hashlib.sha256).digest()


def resolve_secrets(settings: Settings) -> Secrets:
    """Secrets from settings; else the embedded file (SQLite) or random ones (memory).

    PostgreSQL serves many processes and must be given both secrets.
    """
    configured_secret = settings.api_key_secret
    configured_keys = settings.encryption_keys
    audit = settings.secret("audit_key")
    audit_key = audit.encode() if audit else None
    backend = settings.backend(settings.database_url)
    if configured_secret is not None and configured_keys is not None:
        keys = [k.strip() for k in configured_keys.get_secret_value().split(",") if k.strip()]
        return Secrets(configured_secret.get_secret_value().encode(), keys, audit_key)
    if backend == "sqlite":
        local = local_secrets(settings.database_url)
        return Secrets(
            (
                configured_secret.get_secret_value() if configured_secret else local.api_key_secret
            ).encode(),
            [k.strip() for k in configured_keys.get_secret_value().split(",")]
            if configured_keys
            else local.encryption_keys,
            audit_key,
        )
    if backend == "memory":
        return Secrets(
            configured_secret.get_secret_value().encode()
            if configured_secret
            else secrets.token_bytes(32),
            [FieldCipher.generate_key()],
            audit_key,
        )
    raise ConfigurationError(
        f"CBP_API_KEY_SECRET and CBP_ENCRYPTION_KEYS must be set for a {backend} database"
    )


def _redis_client(url: str) -> Iterator[redis.Redis]:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    yield client
    client.close()


def _dramatiq_broker(url: str, prefix: str) -> Iterator[dramatiq.Broker]:
    from cbp.adapters.dramatiq.brokers import open_broker

    broker = open_broker(url, namespace=f"{prefix}dramatiq")
    yield broker
    broker.close()


def _engine(settings: Settings) -> Iterator[Engine]:
    engine = open_engine(
        settings.database_url,
        auto_migrate=settings.migrates_on_start,
        pool_size=settings.database_pool_size,
    )
    yield engine
    engine.dispose()


#: Told of every breaker's change of state (the core announces it on system.events).
BreakerListeners = list[Callable[[str, BreakerState, BreakerState], None]]


def _discovery(settings: Settings) -> ServiceRegistry:
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


def _outbound(
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


def _policy(
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
        _outbound,
        name,
        settings=settings,
        discovery=discovery,
        store=store,
        listeners=listeners,
        discovered=discovered,
    )


def _client_settings(settings: Settings, name: str) -> HttpClientSettings:
    """Timeouts, credentials and TLS of one HTTP dependency, named in full."""
    from cbp.adapters.http.client import HttpClientSettings

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


def _http_client(settings: Settings, name: str) -> Iterator[httpx.Client]:
    from cbp.adapters.http.client import build_client

    client = build_client(_client_settings(settings, name))
    yield client
    client.close()


def _provider_notifier(
    settings: Settings,
    *,
    email_call: Callable[[], ResilientDependency],
    sms_call: Callable[[], ResilientDependency],
    sms_client: Callable[[], httpx.Client],
) -> Notifier:
    """Email over SMTP and SMS over HTTP, each where it is configured."""
    from cbp.adapters.http.sms import HttpSmsNotifier
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


def _nacha_processor(settings: Settings, clock: Clock, calendar: BusinessCalendar) -> Any:
    """The nacha processor, from the ``nacha_*`` settings (imported only when chosen)."""
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
        ledger_path=settings.nacha_ledger_path,
        outbound_dir=settings.nacha_outbound_dir,
    )


class Container(containers.DeclarativeContainer):
    """Every adapter and service of one cbp process."""

    settings = providers.Dependency(instance_of=Settings)
    config = providers.Configuration()

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UuidV7IdGenerator)
    calendar = providers.Singleton(FederalReserveCalendar)

    secrets = providers.Singleton(resolve_secrets, settings)
    audit_key = providers.Callable(lambda s: s.audit_key, secrets)
    cipher = providers.Singleton(FieldCipher, keys=secrets.provided.encryption_keys)
    memory_database = providers.Singleton(InMemoryDatabase)
    engine = providers.Resource(_engine, settings)
    sql_unit_of_work = providers.Factory(SqlAlchemyUnitOfWork, engine=engine, cipher=cipher)
    unit_of_work = providers.Selector(
        config.storage,
        memory=providers.Factory(InMemoryUnitOfWork, db=memory_database),
        sqlite=sql_unit_of_work,
        postgresql=sql_unit_of_work,
    )
    dramatiq_broker = providers.Resource(_dramatiq_broker, config.broker_url, config.redis_prefix)
    dramatiq_transport = providers.Singleton(
        lazy("cbp.adapters.dramatiq.transport:DramatiqDeliveryTransport"),
        broker=dramatiq_broker,
        prefix=config.queue_prefix,
    )
    broker = providers.Selector(
        config.broker,
        memory=providers.Singleton(InMemoryBroker),
        amqp=dramatiq_transport,
        redis=dramatiq_transport,
    )
    cache_redis = providers.Resource(_redis_client, config.cache_url)
    rate_limit_redis = providers.Resource(_redis_client, config.rate_limit_url)
    cache = providers.Selector(
        config.cache,
        memory=providers.Singleton(InMemoryCache, clock=clock),
        redis=providers.Singleton(
            lazy("cbp.adapters.redis.outside:RedisCache"),
            client=cache_redis,
            prefix=config.redis_prefix,
        ),
    )
    rate_limiter = providers.Selector(
        config.rate_limit,
        memory=providers.Singleton(
            lazy("cbp.adapters.rate_limits.moving_window:memory_rate_limiter")
        ),
        redis=providers.Singleton(
            lazy("cbp.adapters.rate_limits.moving_window:redis_rate_limiter"),
            client=rate_limit_redis,
            prefix=config.redis_prefix,
        ),
    )
    breaker_listeners: providers.Singleton[BreakerListeners] = providers.Singleton(list)
    breaker_redis = providers.Resource(_redis_client, config.breaker_url)
    breaker_store = providers.Selector(
        config.breakers,
        memory=providers.Singleton(InMemoryBreakerStore),
        redis=providers.Singleton(
            lazy("cbp.adapters.redis.breakers:RedisBreakerStore"),
            client=breaker_redis,
            prefix=config.redis_prefix,
        ),
    )
    registry = providers.Singleton(_discovery, settings)
    _guards = (settings, registry, breaker_store, breaker_listeners)
    processor_call = _policy("processor", *_guards)
    verifier_call = _policy("verifier", *_guards)
    email_call = _policy("email", *_guards, discovered=False)
    sms_call = _policy("sms", *_guards)
    webhook_call = _policy("webhook", *_guards, discovered=False)
    processor_client = providers.Resource(_http_client, settings, "processor")
    verifier_client = providers.Resource(_http_client, settings, "verifier")
    sms_client = providers.Resource(_http_client, settings, "sms")
    webhook_client = providers.Resource(_http_client, settings, "webhook")
    processor = providers.Selector(
        config.processor,
        http=providers.Singleton(
            lazy("cbp.adapters.http.processor:HttpPaymentProcessor"),
            client=processor_client,
            call=processor_call,
        ),
        simulator=providers.Singleton(
            SimulatedPaymentProcessor,
            clock=clock,
            settle_after_seconds=config.processor_settle_after_seconds,
            ledger_path=config.processor_ledger_path,
        ),
        nacha=providers.Singleton(_nacha_processor, settings, clock, calendar),
    )
    verifier = providers.Selector(
        config.verifier,
        rules=providers.Singleton(RulesAccountVerifier),
        http=providers.Singleton(
            lazy("cbp.adapters.http.verifier:HttpAccountVerifier"),
            client=verifier_client,
            call=verifier_call,
        ),
    )
    notifier = providers.Selector(
        config.notifier,
        log=providers.Singleton(LogNotifier),
        memory=providers.Singleton(InMemoryNotifier),
        providers=providers.Singleton(
            _provider_notifier,
            settings,
            email_call=email_call.provider,
            sms_call=sms_call.provider,
            sms_client=sms_client.provider,
        ),
    )
    http_webhooks = providers.Singleton(
        lazy("cbp.adapters.http.webhooks:HttpWebhookSender"),
        client=webhook_client,
        call=webhook_call,
        allowed_networks=providers.Callable(allowed_networks, config.webhook_allowed_networks),
    )
    webhooks = providers.Singleton(OnFirstUse, http_webhooks.provider)

    options = providers.Singleton(
        ServiceOptions,
        api_key_secret=secrets.provided.api_key_secret,
        audit_key=audit_key,
        max_notification_attempts=config.max_notification_attempts,
        directory_cache_ttl_seconds=config.directory_cache_ttl_seconds,
        default_page_size=config.default_page_size,
        max_page_size=config.max_page_size,
        delivery_lease_seconds=config.delivery_lease_seconds,
        delivery_max_attempts=config.delivery_max_attempts,
        delivery_retry_base_seconds=config.delivery_retry_base_seconds,
        delivery_retry_max_seconds=config.delivery_retry_max_seconds,
        webhook_retry_schedule=config.webhook_retry_schedule,
        webhook_pause_after_seconds=config.webhook_pause_after_seconds,
        webhook_secret_overlap_seconds=config.webhook_secret_overlap_seconds,
        recurring_days_ahead=config.recurring_days_ahead,
        micro_deposit_expiry_seconds=config.micro_deposit_expiry_seconds,
    )
    deps = providers.Singleton(
        Dependencies,
        unit_of_work=providers.Singleton(
            JoiningUnitsOfWork,
            unit_of_work.provider,
            providers.Singleton(EventPublisher, ids=ids, clock=clock),
        ),
        clock=clock,
        ids=ids,
        calendar=calendar,
        processor=processor,
        verifier=verifier,
        notifier=notifier,
        webhooks=webhooks,
        cache=cache,
        rate_limiter=rate_limiter,
        options=options,
    )
    bus = providers.Singleton(CommandBus, deps=deps)
    queries = providers.Singleton(Queries, deps=deps)
    router = providers.Singleton(MessageRouter, bus=bus)


def build_container(settings: Settings | None = None) -> Container:
    """A container configured from ``settings`` (the environment by default)."""
    settings = settings or Settings()
    container = Container(settings=settings)
    container.config.from_dict(settings.for_container())
    return container
