"""Payments processed end to end per second, against raw Dramatiq on the same broker.

    .venv/bin/python bench/pipeline_throughput.py --payments 1000 --broker amqp

The baseline is Dramatiq alone: as many no-op messages as cbp sends for the
payments, enqueued and consumed by one worker process with the same threads.
cbp runs as deployed: a fresh PostgreSQL database, `cbp relay` and `cbp
worker` processes; the payments are created through the use case by
``--creators`` threads at once (each a customer of its own, as an API's
clients would be), and the clock stops when every one has reached its
terminal state (processor, exception, notification, audit all included).
The CPU each payment cost is counted in every process that did the work:
the worker and the relay, PostgreSQL, the broker and the creating threads.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import dramatiq
import psutil
from redis_keys import forget_prefix
from scratch_database import fresh_database
from sqlalchemy import create_engine, text

from cbp.adapters.dramatiq.brokers import open_broker
from cbp.adapters.dramatiq.queues import remove_queues
from cbp.adapters.sql.crypto import FieldCipher
from cbp.bootstrap import Cbp, bootstrap
from cbp.services import commands as c
from cbp.settings import Settings

BROKERS = {
    "amqp": "amqp://guest:guest@127.0.0.1:5672/%2F",
    "redis": "redis://127.0.0.1:6379/0",
}
THREADS = 8


def raw_dramatiq(url: str, messages: int) -> float:
    """No-op messages per second through Dramatiq on ``url`` (enqueue to last done)."""
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    broker = open_broker(url, namespace=prefix)
    done: list[int] = []

    def noop(n: int) -> None:
        done.append(n)

    actor = dramatiq.actor(noop, queue_name=f"{prefix}.raw", broker=broker, actor_name="noop")
    worker = dramatiq.Worker(broker, worker_threads=THREADS, worker_timeout=100)
    worker.start()
    start = time.perf_counter()
    for n in range(messages):
        actor.send(n)
    deadline = time.monotonic() + 600
    while len(done) < messages:
        if time.monotonic() > deadline:
            raise SystemExit(f"raw Dramatiq: {len(done)} of {messages} messages in 10 minutes")
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    worker.stop()
    broker.flush_all()
    broker.close()
    remove_queues(url, prefix, [f"{prefix}.raw"])  # NOTE: RabbitMQ keeps a queue once declared
    forget_prefix(url, prefix)
    return messages / elapsed


@dataclass(frozen=True)
class PipelineRun:
    """What one run of payments through the relay and the worker measured."""

    #: Payments per second, from the first created to the last terminal.
    rate: float
    #: Deliveries made for them.
    deliveries: int
    #: Resident memory (MiB) of the relay, the worker and an API process after the run.
    memory: dict[str, float]
    #: Milliseconds of CPU a payment, by who spent them.
    cpu_ms: dict[str, float]


#: How many payments ended, and whether all they caused was done too: every
#: message relayed and delivered, every audit entry chained.
_ENDED = text(
    "SELECT count(*),"
    " count(*) >= :payments"
    " AND NOT EXISTS (SELECT 1 FROM outbox WHERE dispatched_at IS NULL)"
    " AND NOT EXISTS (SELECT 1 FROM deliveries WHERE status = 'pending')"
    " AND NOT EXISTS (SELECT 1 FROM audit_drafts)"
    " FROM payment_views WHERE status IN ('completed', 'failed', 'returned')"
)


def cbp_pipeline(
    url: str, payments: int, worker_processes: int = 1, creators: int = 8
) -> PipelineRun:
    """Payments per second through relay and worker processes, and what it took.

    Whatever happens, the processes are stopped and the database and folder
    removed.
    """
    processes: list[subprocess.Popen[bytes]] = []
    with ExitStack() as cleanup:
        database = cleanup.enter_context(fresh_database())
        home = Path(cleanup.enter_context(tempfile.TemporaryDirectory()))
        env = {k: v for k, v in os.environ.items() if not k.startswith("CBP_")} | {
            "CBP_DATABASE_URL": database,
            "CBP_AUTO_MIGRATE": "true",
            "CBP_API_KEY_SECRET": "bench",
            "CBP_ENCRYPTION_KEYS": FieldCipher.generate_key(),
            "CBP_BROKER_URL": url,
            "CBP_QUEUE_PREFIX": f"bench{uuid.uuid4().hex[:8]}.",
            "CBP_REDIS_PREFIX": f"bench{uuid.uuid4().hex[:8]}:",
            "CBP_PROCESSOR_LEDGER_PATH": str(home / "ledger.sqlite3"),
            "CBP_WORKER_THREADS": str(THREADS),
            "CBP_WORKER_PROCESSES": str(worker_processes),
            "CBP_RELAY_INTERVAL_SECONDS": "0.05",
            "CBP_LOG_LEVEL": "WARNING",
        }
        cleanup.callback(_forget_broker_namespace, env)  # NOTE: once the processes stopped
        cleanup.callback(_stop_all, processes)
        app = bootstrap(
            Settings(
                database_url=database,
                auto_migrate=True,
                api_key_secret=env["CBP_API_KEY_SECRET"],
                encryption_keys=env["CBP_ENCRYPTION_KEYS"],
            )
        )
        cleanup.callback(app.close)
        tenant = app.handle(c.CreateTenant(name="Bench Bank"))
        worlds = [world_of(app, tenant, n) for n in range(creators)]
        for command in (["relay"], ["worker"], ["serve", "--port", str(_free_port())]):
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "cbp.entrypoints.cli", *command],
                    env=env,
                    cwd=home,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(3)  # NOTE: let both processes connect before the clock starts

        def create(n: int) -> str:
            cents = (0, 13, 14, 15)[n % 4]  # NOTE: completed, nsf, returned, account closed
            amount = f"{10 + n % 50}.{cents:02d}"
            return str(app.handle(c.CreateOneTimePayment(**worlds[n % creators], amount=amount)))

        cpu_before = _cpu_seconds(processes)
        start = time.perf_counter()
        with ThreadPoolExecutor(creators) as pool:
            created = list(pool.map(create, range(payments)))
        tenant_id = worlds[0]["tenant_id"]
        send_on = app.queries.get_payment(tenant_id, created[0]).send_on
        # NOTE: on a weekend, a holiday or after the cut-off that date is ahead: send them now
        app.handle(c.StartProcessingJob(tenant_id=tenant_id, due_on=send_on, send_now=True))
        engine = create_engine(database)
        cleanup.callback(engine.dispose)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                ended, settled = conn.execute(_ENDED, {"payments": payments}).one()
            if ended >= payments and settled:
                break
            time.sleep(0.1)
        else:
            raise SystemExit(
                f"cbp: {ended} of {payments} payments ended in 10 minutes, or not all they caused"
            )
        elapsed = time.perf_counter() - start
        cpu_after = _cpu_seconds(processes)
        with engine.connect() as conn:
            messages = conn.execute(text("SELECT count(*) FROM deliveries")).scalar_one()
        names = ("relay", "worker", "serve")
        memory = {name: _rss_mib(p.pid) for name, p in zip(names, processes, strict=True)}
        cpu_ms = {
            name: (cpu_after[name] - cpu_before.get(name, 0.0)) * 1000 / payments
            for name in cpu_after
        }
        return PipelineRun(payments / elapsed, int(messages), memory, cpu_ms)


def _forget_broker_namespace(env: dict[str, str]) -> None:
    """Remove the run's queues from the broker, and on Redis every key under its prefix."""
    subprocess.run(
        [sys.executable, "-m", "cbp.entrypoints.cli", "broker", "remove"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    forget_prefix(env["CBP_BROKER_URL"], env["CBP_REDIS_PREFIX"])


def _stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process, and SIGKILL one that has not stopped within a minute."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(processes: list[subprocess.Popen[bytes]]) -> dict[str, float]:
    """CPU seconds so far of each part that works on the payments, by name.

    The relay and the worker with their children, PostgreSQL's processes, the
    broker's, and this process (whose threads create the payments). A
    PostgreSQL backend that exits between two counts takes its seconds with
    it; the relay and the worker keep theirs open for the whole run.
    """

    def spent(process: psutil.Process) -> float:
        try:
            times = process.cpu_times()
        except psutil.Error:
            return 0.0
        return times.user + times.system + times.children_user + times.children_system

    found = {"relay": 0.0, "worker": 0.0, "postgresql": 0.0, "broker": 0.0}
    for name, popen in zip(("relay", "worker"), processes, strict=False):
        root = psutil.Process(popen.pid)
        found[name] = sum(spent(p) for p in [root, *root.children(recursive=True)])
    for process in psutil.process_iter(["name"]):
        name = process.info["name"] or ""
        if name.startswith("postgres"):
            found["postgresql"] += spent(process)
        elif name.startswith(("redis-server", "beam")):
            found["broker"] += spent(process)
    found["creating"] = time.process_time()
    return found


def _rss_mib(pid: int) -> float:
    """Resident memory of the largest process of a command (gunicorn's master or worker), MiB."""
    process = psutil.Process(pid)
    tree = [process, *process.children(recursive=True)]
    return max(p.memory_info().rss for p in tree) / 2**20


def world_of(app: Cbp, tenant: str, n: int) -> dict[str, str]:
    """The tenant's ``n``-th customer, with a verified payee and funding account."""
    customer = app.handle(
        c.CreateCustomer(
            tenant_id=tenant, external_id=f"b-{n}", name="Bench", email=f"b{n}@example.com"
        )
    )
    biller = app.handle(
        c.AddGlobalPayee(
            name="Bench Power",
            category="utilities",
            address=c.Address(line1="1 Main", city="Austin", state="TX", postal_code="78701"),
        )
    )
    payee = app.handle(
        c.AddPayee(
            tenant_id=tenant,
            customer_id=customer,
            global_payee_id=biller,
            account_number="4417123456",
        )
    )
    app.handle(c.VerifyPayeeAccount(tenant_id=tenant, payee_id=payee))
    funding = app.handle(
        c.AddFundingAccount(
            tenant_id=tenant,
            customer_id=customer,
            routing_number="011000015",
            account_number="000123456789",
            account_type="checking",
            holder_name="Bench",
        )
    )
    return {
        "tenant_id": tenant,
        "customer_id": customer,
        "payee_id": payee,
        "funding_account_id": funding,
    }


def main() -> None:
    """Run both and print one Markdown row per broker."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1000)
    parser.add_argument("--broker", choices=sorted(BROKERS), action="append")
    parser.add_argument(
        "--worker-processes", type=int, default=1, help="processes of the one `cbp worker`"
    )
    parser.add_argument(
        "--creators", type=int, default=8, help="threads creating payments, a customer each"
    )
    args = parser.parse_args()
    print(
        "| broker | payments | cbp payments/s | deliveries | raw Dramatiq msgs/s | P3 "
        "| CPU ms a payment: all (worker / relay / PostgreSQL / broker / creating) "
        "| MiB relay / worker / API (largest process) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in args.broker or sorted(BROKERS):
        url = BROKERS[name]
        run = cbp_pipeline(url, args.payments, args.worker_processes, args.creators)
        raw = raw_dramatiq(url, run.deliveries)
        cpu = run.cpu_ms
        parts = ("worker", "relay", "postgresql", "broker", "creating")
        print(
            f"| {name} | {args.payments} | {run.rate:.1f} | {run.deliveries} | {raw:.0f} | "
            f"{run.rate / raw:.3f} | {sum(cpu[p] for p in parts):.1f} "
            f"({' / '.join(f'{cpu[p]:.1f}' for p in parts)}) | "
            f"{run.memory['relay']:.1f} / {run.memory['worker']:.1f} / "
            f"{run.memory['serve']:.1f} |"
        )


if __name__ == "__main__":
    main()
