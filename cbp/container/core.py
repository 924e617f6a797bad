"""The core container: the use cases, bound to the adapters and options they use."""

from __future__ import annotations

from dependency_injector import containers, providers

from cbp.services.access import Authenticator
from cbp.services.bus import CommandBus
from cbp.services.delivery import Deliveries, RetryPolicy
from cbp.services.dependencies import Dependencies, ServiceOptions
from cbp.services.directory_searches import DirectorySearches
from cbp.services.occurrences import OccurrenceMaker
from cbp.services.queries import Queries
from cbp.services.routing import MessageRouter
from cbp.services.verified_keys import VerifiedKeys


class Core(containers.DeclarativeContainer):
    """The command bus, the queries, the deliveries and the key check of one process."""

    config = providers.Configuration()
    gateways = providers.DependenciesContainer()
    adapters = providers.DependenciesContainer()

    verified_keys = providers.Singleton(
        VerifiedKeys,
        adapters.key_revocations,
        ttl_seconds=providers.Selector(
            config.cache, memory=providers.Object(1.0), redis=providers.Object(60.0)
        ),
    )
    directory_searches = providers.Singleton(
        DirectorySearches,
        adapters.cache,
        adapters.directory_changes,
        adapters.ids,
        ttl_seconds=config.directory_cache_ttl_seconds,
    )
    options = providers.Singleton(
        ServiceOptions,
        api_key_secret=gateways.secrets.provided.api_key_secret,
        audit_key=gateways.secrets.provided.audit_key,
        max_notification_attempts=config.max_notification_attempts,
        webhook_retry_schedule=config.webhook_retry_schedule,
        webhook_pause_after_seconds=config.webhook_pause_after_seconds,
        webhook_secret_overlap_seconds=config.webhook_secret_overlap_seconds,
        check_mailing_days=config.check_mailing_days,
        micro_deposit_expiry_seconds=config.micro_deposit_expiry_seconds,
    )
    deps = providers.Singleton(
        Dependencies,
        unit_of_work=adapters.unit_of_work.provider,
        clock=adapters.clock,
        ids=adapters.ids,
        calendar=adapters.calendar,
        processor=adapters.processor,
        verifier=adapters.verifier,
        notifier=adapters.notifier,
        webhooks=adapters.webhooks,
        directory_searches=directory_searches,
        rate_limiter=adapters.rate_limiter,
        key_revocations=adapters.key_revocations,
        verified_keys=verified_keys,
        occurrences=providers.Singleton(
            OccurrenceMaker,
            adapters.ids,
            adapters.calendar,
            days_ahead=config.recurring_days_ahead,
        ),
        options=options,
    )
    bus = providers.Singleton(CommandBus, deps=deps, publish=adapters.publisher)
    deliveries = providers.Singleton(
        Deliveries,
        unit_of_work=adapters.unit_of_work.provider,
        clock=adapters.clock,
        ids=adapters.ids,
        policy=providers.Singleton(
            RetryPolicy,
            lease_seconds=config.delivery_lease_seconds,
            max_attempts=config.delivery_max_attempts,
            retry_base_seconds=config.delivery_retry_base_seconds,
            retry_max_seconds=config.delivery_retry_max_seconds,
        ),
    )
    authenticator = providers.Singleton(
        Authenticator,
        unit_of_work=adapters.unit_of_work.provider,
        verified_keys=verified_keys,
        clock=adapters.clock,
        api_key_secret=gateways.secrets.provided.api_key_secret,
    )
    queries = providers.Singleton(
        Queries,
        unit_of_work=adapters.unit_of_work.provider,
        clock=adapters.clock,
        calendar=adapters.calendar,
        directory_searches=directory_searches,
        default_page_size=config.default_page_size,
        max_page_size=config.max_page_size,
    )
    router = providers.Singleton(MessageRouter, bus=bus)
