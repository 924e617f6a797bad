"""The gateways container: secrets, connections, and the policies that guard outside calls.

What the adapters are built on, and nothing a use case calls directly: the
keys, the database engine, Redis and broker connections, where each outside
service is found, its HTTP client and its resilience policy.
"""

from __future__ import annotations

from dependency_injector import containers, providers

from cbp.adapters.memory.breakers import InMemoryBreakerStore
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.setup import engine_for_lifetime
from cbp.container.lazy import lazy, lazy_lifetime
from cbp.container.outbound import (
    BreakerListeners,
    http_client,
    policy_provider,
    service_registry,
)
from cbp.container.secrets import resolve_secrets
from cbp.settings import Settings

open_redis = lazy_lifetime("cbp.adapters.redis.client:open_redis")


class Gateways(containers.DeclarativeContainer):
    """Secrets, connections with a lifetime, and one resilience policy per outside dependency."""

    settings = providers.Dependency(instance_of=Settings)
    config = providers.Configuration()

    secrets = providers.Singleton(resolve_secrets, settings)
    cipher = providers.Singleton(FieldCipher, keys=secrets.provided.encryption_keys)
    engine = providers.Resource(
        engine_for_lifetime,
        config.database_url,
        auto_migrate=config.migrates_on_start,
        pool_size=config.database_pool_size,
    )
    dramatiq_broker = providers.Resource(
        lazy_lifetime("cbp.adapters.dramatiq.brokers:broker_for_lifetime"),
        config.broker_url,
        config.redis_prefix,
    )
    cache_redis = providers.Resource(open_redis, config.cache_url)
    rate_limit_redis = providers.Resource(open_redis, config.rate_limit_url)
    breaker_redis = providers.Resource(open_redis, config.breaker_url)

    breaker_listeners: providers.Singleton[BreakerListeners] = providers.Singleton(list)
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
