"""The composition root: builds adapters from settings and wires the core.

Only entry points, ``bootstrap`` and tests touch this module. Each port is
a provider; ``Selector`` picks the adapter a setting names, and tests or
embedders replace any of them with ``container.<port>.override(...)``.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers

from cbp.adapters.calendar.federal_reserve import FederalReserveCalendar
from cbp.adapters.http.networks import allowed_networks
from cbp.adapters.memory.ach_ledger import InMemoryAchLedger
from cbp.adapters.memory.breakers import InMemoryBreakerStore
from cbp.adapters.memory.database import InMemoryDatabase
from cbp.adapters.memory.outside import (
    InMemoryBroker,
    InMemoryCache,
    InMemoryNotifier,
    InProcessKeyRevocations,
)
from cbp.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cbp.adapters.rules.verifier import RulesAccountVerifier
from cbp.adapters.simulator.processor import SimulatedPaymentProcessor
from cbp.adapters.sql.ach_ledger import SqlAchLedger
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.unit_of_work import SqlAlchemyUnitOfWork
from cbp.adapters.system.clock import SystemClock, UuidV7IdGenerator
from cbp.adapters.system.log_notifier import LogNotifier
from cbp.services.bus import CommandBus
from cbp.services.dependencies import Dependencies, ServiceOptions
from cbp.services.outbox import EventPublisher
from cbp.services.queries import Queries
from cbp.services.routing import MessageRouter
from cbp.services.transaction import JoiningUnitsOfWork
from cbp.services.verified_keys import VerifiedKeys
from cbp.settings import Settings
from cbp.wiring.outbound import (
    BreakerListeners,
    http_client,
    nacha_processor,
    policy_provider,
    provider_notifier,
    service_registry,
)
from cbp.wiring.resources import database_engine, dramatiq_broker, redis_client
from cbp.wiring.secrets import resolve_secrets

if TYPE_CHECKING:
    pass


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
    engine = providers.Resource(database_engine, settings)
    sql_unit_of_work = providers.Factory(SqlAlchemyUnitOfWork, engine=engine, cipher=cipher)
    unit_of_work = providers.Selector(
        config.storage,
        memory=providers.Factory(InMemoryUnitOfWork, db=memory_database),
        sqlite=sql_unit_of_work,
        postgresql=sql_unit_of_work,
    )
    sql_ach_ledger = providers.Singleton(SqlAchLedger, engine=engine, cipher=cipher)
    ach_ledger = providers.Selector(
        config.storage,
        memory=providers.Singleton(InMemoryAchLedger),
        sqlite=sql_ach_ledger,
        postgresql=sql_ach_ledger,
    )
    dramatiq_broker = providers.Resource(dramatiq_broker, config.broker_url, config.redis_prefix)
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
    cache_redis = providers.Resource(redis_client, config.cache_url)
    rate_limit_redis = providers.Resource(redis_client, config.rate_limit_url)
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
    # NOTE: a revoked key is refused everywhere within a second: at once where Redis
    # tells every process, or when a verified key's second is up where nothing can
    key_revocations = providers.Selector(
        config.cache,
        memory=providers.Singleton(InProcessKeyRevocations),
        redis=providers.Singleton(
            lazy("cbp.adapters.redis.key_revocations:RedisKeyRevocations"),
            client=cache_redis,
            prefix=config.redis_prefix,
        ),
    )
    verified_keys = providers.Singleton(
        VerifiedKeys,
        key_revocations,
        ttl_seconds=providers.Selector(
            config.cache, memory=providers.Object(1.0), redis=providers.Object(60.0)
        ),
    )
    breaker_listeners: providers.Singleton[BreakerListeners] = providers.Singleton(list)
    breaker_redis = providers.Resource(redis_client, config.breaker_url)
    breaker_store = providers.Selector(
        config.breakers,
        memory=providers.Singleton(InMemoryBreakerStore),
        redis=providers.Singleton(
            lazy("cbp.adapters.redis.breakers:RedisBreakerStore"),
            client=breaker_redis,
            prefix=config.redis_prefix,
        ),
    )
    registry = providers.Singleton(service_registry, settings)
    _guards = (settings, registry, breaker_store, breaker_listeners)
    processor_call = policy_provider("processor", *_guards)
    verifier_call = policy_provider("verifier", *_guards)
    email_call = policy_provider("email", *_guards, discovered=False)
    sms_call = policy_provider("sms", *_guards)
    webhook_call = policy_provider("webhook", *_guards, discovered=False)
    processor_client = providers.Resource(http_client, settings, "processor")
    verifier_client = providers.Resource(http_client, settings, "verifier")
    sms_client = providers.Resource(http_client, settings, "sms")
    webhook_client = providers.Resource(http_client, settings, "webhook")
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
        nacha=providers.Singleton(nacha_processor, settings, clock, calendar, ach_ledger),
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
            provider_notifier,
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
        key_revocations=key_revocations,
        verified_keys=verified_keys,
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
