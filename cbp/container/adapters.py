"""The adapters container: one implementation of each port, chosen by settings.

A ``Selector`` picks the adapter a setting names (``memory``, ``sqlite``,
``redis``, ``http`` ...). Tests and embedders replace any port with
``container.adapters.<port>.override(...)``.
"""

from __future__ import annotations

from typing import Any

from dependency_injector import containers, providers

from cbp.adapters.calendar.federal_reserve import FederalReserveCalendar
from cbp.adapters.clock_and_ids.clock import SystemClock, UuidV7IdGenerator
from cbp.adapters.http_clients.networks import allowed_networks
from cbp.adapters.memory.ach_ledger import InMemoryAchLedger
from cbp.adapters.memory.broadcast import InProcessBroadcast
from cbp.adapters.memory.broker import InMemoryBroker
from cbp.adapters.memory.cache import InMemoryCache
from cbp.adapters.memory.database import InMemoryDatabase
from cbp.adapters.memory.notifiers import InMemoryNotifier
from cbp.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cbp.adapters.notifiers.log import LogNotifier
from cbp.adapters.rules.verifier import RulesAccountVerifier
from cbp.adapters.simulator.processor import SimulatedPaymentProcessor
from cbp.adapters.sql.ach_ledger import SqlAchLedger
from cbp.adapters.sql.unit_of_work import SqlAlchemyUnitOfWork
from cbp.container.lazy import OnFirstUse, lazy
from cbp.container.outbound import nacha_processor, paid_by_method, provider_notifier
from cbp.services.outbox import EventPublisher
from cbp.settings import Settings


def broadcast(
    config: providers.Configuration, gateways: providers.DependenciesContainer, topic: str
) -> providers.Selector[Any]:
    """One topic's announcements: over Redis pub/sub with a Redis cache, else in this process."""
    return providers.Selector(
        config.cache,
        memory=providers.Singleton(InProcessBroadcast),
        redis=providers.Singleton(
            lazy("cbp.adapters.redis.broadcast:RedisBroadcast"),
            client=gateways.cache_redis,
            topic=topic,
            prefix=config.redis_prefix,
        ),
    )


class Adapters(containers.DeclarativeContainer):
    """Every port's adapter: storage, messaging, cache, limits and the outside world."""

    settings = providers.Dependency(instance_of=Settings)
    config = providers.Configuration()
    gateways = providers.DependenciesContainer()

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UuidV7IdGenerator)
    calendar = providers.Singleton(FederalReserveCalendar)

    memory_database = providers.Singleton(InMemoryDatabase)
    #: Publishes what a unit of work opened outside the command bus recorded, as it commits.
    publisher = providers.Singleton(EventPublisher, ids=ids, clock=clock)
    sql_unit_of_work = providers.Factory(
        SqlAlchemyUnitOfWork,
        engine=gateways.engine,
        cipher=gateways.cipher,
        before_commit=publisher,
    )
    unit_of_work = providers.Selector(
        config.storage,
        memory=providers.Factory(InMemoryUnitOfWork, db=memory_database, before_commit=publisher),
        sqlite=sql_unit_of_work,
        postgresql=sql_unit_of_work,
    )
    sql_ach_ledger = providers.Singleton(
        SqlAchLedger, engine=gateways.engine, cipher=gateways.cipher
    )
    ach_ledger = providers.Selector(
        config.storage,
        memory=providers.Singleton(InMemoryAchLedger),
        sqlite=sql_ach_ledger,
        postgresql=sql_ach_ledger,
    )

    dramatiq_transport = providers.Singleton(
        lazy("cbp.adapters.dramatiq.transport:DramatiqDeliveryTransport"),
        broker=gateways.dramatiq_broker,
        prefix=config.queue_prefix,
    )
    broker = providers.Selector(
        config.broker,
        memory=providers.Singleton(InMemoryBroker),
        amqp=dramatiq_transport,
        redis=dramatiq_transport,
    )
    cache = providers.Selector(
        config.cache,
        memory=providers.Singleton(InMemoryCache, clock=clock),
        redis=providers.Singleton(
            lazy("cbp.adapters.redis.cache:RedisCache"),
            client=gateways.cache_redis,
            prefix=config.redis_prefix,
        ),
    )
    rate_limiter = providers.Selector(
        config.rate_limit,
        memory=providers.Singleton(
            lazy("cbp.adapters.rate_limits.moving_window:memory_rate_limiter")
        ),
        redis=providers.Singleton(
            lazy("cbp.adapters.rate_limits.redis_window:redis_rate_limiter"),
            client=gateways.rate_limit_redis,
            prefix=config.redis_prefix,
        ),
    )
    # NOTE: a revoked key is refused everywhere within a second: at once where Redis
    # tells every process, or when a verified key's second is up where nothing can
    key_revocations = broadcast(config, gateways, "api-keys:changed")
    # NOTE: a directory change reaches every process's recent searches the same way
    directory_changes = broadcast(config, gateways, "directory:changed")

    electronic_processor = providers.Selector(
        config.processor,
        http=providers.Singleton(
            lazy("cbp.adapters.http_clients.processor:HttpPaymentProcessor"),
            client=gateways.processor_client,
            call=gateways.processor_call,
        ),
        simulator=providers.Singleton(
            SimulatedPaymentProcessor,
            clock=clock,
            settle_after_seconds=config.processor_settle_after_seconds,
            ledger_path=config.processor_ledger_path,
        ),
        nacha=providers.Singleton(nacha_processor, settings, clock, calendar, ach_ledger),
    )
    processor = providers.Singleton(
        paid_by_method, settings, electronic_processor, clock, unit_of_work.provider
    )
    verifier = providers.Selector(
        config.verifier,
        rules=providers.Singleton(RulesAccountVerifier),
        http=providers.Singleton(
            lazy("cbp.adapters.http_clients.verifier:HttpAccountVerifier"),
            client=gateways.verifier_client,
            call=gateways.verifier_call,
        ),
    )
    notifier = providers.Selector(
        config.notifier,
        log=providers.Singleton(LogNotifier),
        memory=providers.Singleton(InMemoryNotifier),
        providers=providers.Singleton(
            provider_notifier,
            settings,
            email_call=gateways.email_call.provider,
            sms_call=gateways.sms_call.provider,
            sms_client=gateways.sms_client.provider,
        ),
    )
    http_webhooks = providers.Singleton(
        lazy("cbp.adapters.http_clients.webhooks:HttpWebhookSender"),
        client=gateways.webhook_client,
        call=gateways.webhook_call,
        allowed_networks=providers.Callable(allowed_networks, config.webhook_allowed_networks),
    )
    webhooks = providers.Singleton(OnFirstUse, http_webhooks.provider)
