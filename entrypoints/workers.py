"""``cbp worker`` and ``cbp relay``: the processes behind a real broker.

The relay turns committed outbox messages into deliveries, leases the due
ones to the broker, and runs the periodic jobs (the reconciler and the
sweep of scheduled payments). Workers consume the broker's queues and run
each delivery. Both stop cleanly on SIGTERM or SIGINT: a worker finishes the
deliveries it holds; whatever it cannot finish comes back when its lease ends.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import signal
import threading

import dramatiq

from cbp.adapters.dramatiq.transport import DramatiqDeliveryTransport, declare_deliver_actor
from cbp.bootstrap import Cbp, bootstrap
from cbp.services.auditing import chain_audit_log
from cbp.services.periodic import periodic_jobs
from cbp.services.routing import broker_queues, of_service
from cbp.settings import ConfigurationError, Settings

from .observability import configure_logging, configure_tracing

logger = logging.getLogger("cbp.workers")


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (call from the main thread)."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _transport(core: Cbp) -> DramatiqDeliveryTransport:
    transport = core.container.adapters.broker()
    if not isinstance(transport, DramatiqDeliveryTransport):
        raise ConfigurationError(
            "this command needs CBP_BROKER_URL=amqp://... or redis://...; "
            "with the in-process broker, cbp serve runs the relay and workers itself"
        )
    return transport


#: glibc's mallopt parameter for the most malloc arenas a process keeps.
_M_ARENA_MAX = -8


def _few_malloc_arenas() -> None:
    """Keep two malloc arenas, not eight a core: memory one thread frees, another reuses.

    With a thread pool, glibc's default gives each busy thread an arena of
    its own, and their free space is held, never shared: resident memory
    then grows with the number of threads. Only on glibc; elsewhere nothing.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, 2)


def _start(settings: Settings, service_name: str) -> Cbp:
    _few_malloc_arenas()
    configure_logging(getattr(logging, settings.log_level))
    configure_tracing(service_name=service_name, otlp_endpoint=settings.otlp_endpoint)
    return bootstrap(settings)


def run_worker_process(
    settings: Settings, stop: threading.Event, service: str | None = None
) -> None:
    """Consume the delivery queues (of one service, if named) until ``stop``."""
    core = _start(settings, f"cbp-worker-{service}" if service else "cbp-worker")
    try:
        transport = _transport(core)
        queues = [transport.prefix + queue for queue in broker_queues(of_service(service))]
        # NOTE: a delivery must finish well inside its lease, or it would be leased twice.
        time_limit_ms = int(settings.delivery_lease_seconds * 1000 * 0.8)
        declare_deliver_actor(
            transport.broker, queues, core.consume_sent, time_limit_ms=time_limit_ms
        )
        worker = dramatiq.Worker(
            transport.broker, worker_threads=settings.worker_threads, worker_timeout=500
        )
        worker.start()
        logger.info("worker started", extra={"queues": queues, "threads": settings.worker_threads})
        stop.wait()
        logger.info("worker stopping")
        worker.stop(timeout=int(settings.delivery_lease_seconds * 1000))
    finally:
        core.close()


def _worker_child(settings: Settings, service: str | None) -> None:
    run_worker_process(settings, stop_on_signals(), service)


def run_workers(settings: Settings, service: str | None = None) -> None:
    """``cbp worker``: one worker process, or ``worker_processes`` children of this one.

    With ``service``, only that internal service's queues are consumed, so
    each service can be scaled and restarted apart from the others.
    """
    of_service(service)  # NOTE: an unknown name fails here, before any process starts
    if service in (None, "payments"):
        settings.require_shared_processor_books("cbp worker sends payments beside other processes")
    stop = stop_on_signals()
    if settings.worker_processes == 1:
        run_worker_process(settings, stop, service)
        return
    spawn = multiprocessing.get_context("spawn")
    children = [
        spawn.Process(target=_worker_child, args=(settings, service), name=f"cbp-worker-{n}")
        for n in range(settings.worker_processes)
    ]
    for child in children:
        child.start()
    while not stop.wait(1.0):
        for n, child in enumerate(children):
            if not child.is_alive():  # NOTE: a crashed child is replaced, its leases expire
                logger.warning(
                    "worker process died; starting another", extra={"exit": child.exitcode}
                )
                children[n] = spawn.Process(
                    target=_worker_child, args=(settings, service), name=child.name
                )
                children[n].start()
    for child in children:
        if child.pid is not None and child.is_alive():
            child.terminate()
    for child in children:
        child.join(timeout=settings.delivery_lease_seconds)


def relay_forever(core: Cbp, settings: Settings, stop: threading.Event) -> None:
    """Relay, dispatch and chain the audit log until ``stop``; reconcile and sweep on a clock."""
    transport = core.container.adapters.broker()
    periodic = periodic_jobs(
        core.bus,
        interval_seconds=settings.reconcile_interval_seconds,
        retention_days=settings.message_retention_days,
    )
    while not stop.is_set():
        try:
            relayed = core.deliveries.relay(core.router.route)
            sent = core.dispatch(transport)
            chain_audit_log(core.deps)
        except Exception:  # NOTE: the database or broker is down: wait and go on
            logger.exception("relay round failed")
            relayed = sent = 0
        for job in periodic:
            job.tick()
        if not relayed and not sent:
            stop.wait(settings.relay_interval_seconds)


def run_relay(settings: Settings) -> None:
    """``cbp relay``: the outbox relay, dispatcher and periodic jobs, until SIGTERM."""
    settings.require_shared_processor_books("cbp relay reconciles what the workers sent")
    stop = stop_on_signals()
    core = _start(settings, "cbp-relay")
    try:
        _transport(core)
        logger.info("relay started")
        relay_forever(core, settings, stop)
    finally:
        core.close()
