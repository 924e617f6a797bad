"""Resident memory of each cbp process, against a bare Dramatiq worker on the same broker.

    .venv/bin/python bench/memory.py --broker redis

Every process runs as deployed, on a fresh PostgreSQL database: `cbp
worker` (one process, 8 threads), `cbp relay`, and `cbp serve` (gunicorn, one
worker; the API only, as with a real broker). The baseline is a Dramatiq
worker process with one no-op actor on the same broker and threads. Each is
measured once it is ready and idle: resident set size (RSS), and the unique
set size (USS) that the process alone holds, which is what each more
process of the kind costs.

    .venv/bin/python bench/memory.py --embedded-payments 1000

measures `cbp serve` on the embedded default instead (SQLite, the
in-process broker and pump, nothing else running) once it has taken that
many payments over HTTP and every one of them has ended.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
from redis_keys import forget_prefix
from scratch_database import fresh_database
from sqlalchemy import create_engine, text

from cbp.adapters.sql.crypto import FieldCipher

sys.path.insert(0, str(Path(__file__).parent))

BROKERS = {
    "amqp": "amqp://guest:guest@127.0.0.1:5672/%2F",
    "redis": "redis://127.0.0.1:6379/0",
}
#: How long a process is left to start and go idle before it is measured.
SETTLE_SECONDS = 8.0

BARE_WORKER = """
import sys, dramatiq
from dramatiq.brokers.{module} import {broker}
broker = {broker}(url=sys.argv[1]{namespace})
dramatiq.set_broker(broker)
dramatiq.actor(lambda: None, actor_name="noop", queue_name="bench-memory-noop")
worker = dramatiq.Worker(broker, worker_threads=8)
worker.start()
print("ready", flush=True)
sys.stdin.read()
"""


def mib(process: psutil.Process) -> tuple[float, float]:
    """RSS and USS of one process, in MiB."""
    info = process.memory_full_info()
    return info.rss / 2**20, info.uss / 2**20


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settled(process: subprocess.Popen[bytes], what: str, settle: float) -> psutil.Process:
    """The process, once it has had ``settle`` seconds to start and go idle."""
    time.sleep(settle)
    if process.poll() is not None:
        raise SystemExit(f"{what} exited with {process.returncode}")
    return psutil.Process(process.pid)


def bare_worker(url: str, settle: float) -> tuple[float, float]:
    """The baseline: a Dramatiq worker with one no-op actor."""
    module, broker = (
        ("rabbitmq", "RabbitmqBroker") if url.startswith("amqp") else ("redis", "RedisBroker")
    )
    namespace = "" if module == "rabbitmq" else ', namespace="bench-memory"'
    code = BARE_WORKER.format(module=module, broker=broker, namespace=namespace)
    process = subprocess.Popen(
        [sys.executable, "-c", code, url], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
    )
    try:
        return mib(settled(process, "the bare worker", settle))
    finally:
        process.kill()
        process.wait()
        forget_prefix(url, "bench-memory")


def cbp_processes(
    url: str, database: str, home: Path, settle: float
) -> dict[str, tuple[float, float]]:
    """RSS and USS of a cbp worker, a relay, and the serving gunicorn worker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CBP_")} | {
        "CBP_DATABASE_URL": database,
        "CBP_BROKER_URL": url,
        "CBP_API_KEY_SECRET": "bench",
        "CBP_ENCRYPTION_KEYS": FieldCipher.generate_key(),
        "CBP_REDIS_PREFIX": f"benchmem{uuid.uuid4().hex[:6]}:",
        "CBP_QUEUE_PREFIX": f"benchmem{uuid.uuid4().hex[:6]}.",
        "CBP_WORKER_PROCESSES": "1",
        "CBP_WORKER_THREADS": "8",
        "CBP_LOG_LEVEL": "WARNING",
        "CBP_PROCESSOR_LEDGER_PATH": str(home / "processor.sqlite3"),
    }
    cli = [sys.executable, "-m", "cbp.entrypoints.cli"]
    subprocess.run([*cli, "migrate"], env=env, cwd=home, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    started = {
        "worker": subprocess.Popen([*cli, "worker"], env=env, cwd=home),
        "relay": subprocess.Popen([*cli, "relay"], env=env, cwd=home),
        "serve": subprocess.Popen(
            [*cli, "serve", "--port", str(port)],
            env=env | {"CBP_HTTP_WORKERS": "1"},
            cwd=home,
            stdout=subprocess.DEVNULL,
        ),
    }
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        time.sleep(1)
        for _ in range(50):
            try:
                connection.request("GET", "/health/live")
                connection.getresponse().read()
                break
            except OSError:
                time.sleep(0.2)
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        found: dict[str, tuple[float, float]] = {}
        for name, process in started.items():
            parent = settled(process, f"cbp {name}", settle)
            children = parent.children(recursive=True)
            if name == "serve":  # NOTE: the gunicorn master, and its one worker
                found["serve (gunicorn master)"] = mib(parent)
                found["serve (gunicorn worker)"] = mib(children[0])
            elif children:  # NOTE: a supervisor, and the process doing the work
                found[f"{name} (supervisor)"] = mib(parent)
                found[name] = mib(children[0])
            else:
                found[name] = mib(parent)
        return found
    finally:
        for process in started.values():
            process.terminate()
        for process in started.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        forget_prefix(url, env["CBP_REDIS_PREFIX"])


def embedded_serve(payments: int, settle: float) -> dict[str, tuple[float, float]]:
    """RSS and USS of `cbp serve` on the embedded default, after ``payments`` have ended."""
    from http_payments import cbp_world, serving

    env = {k: v for k, v in os.environ.items() if not k.startswith("CBP_")} | {
        "CBP_RATE_LIMIT": "100000000",
        "CBP_LOG_LEVEL": "WARNING",
    }
    with tempfile.TemporaryDirectory() as folder, serving(env, Path(folder)) as port:
        home = Path(folder)
        printed = (home / "serve.out").read_text().splitlines()
        key = next(line for line in printed if line.startswith("key_"))
        world = cbp_world(port, key)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def call(method: str, path: str, body: dict[str, object] | None = None) -> Any:
            sent = headers | {"Idempotency-Key": uuid.uuid4().hex}
            connection.request(method, path, None if body is None else json.dumps(body), sent)
            reply = connection.getresponse()
            answer = json.loads(reply.read() or b"{}")
            if reply.status >= 400:
                raise SystemExit(f"{method} {path}: {reply.status} {answer}")
            return answer

        send_on = ""
        for n in range(payments):
            cents = (0, 13, 14, 15)[n % 4]  # NOTE: completed, nsf, returned, account closed
            amount = f"{10 + n % 50}.{cents:02d}"
            made = call("POST", "/payment/one-time", world | {"amount": amount})
            send_on = made["send_on"]
            if n % 100 == 99:
                print(f"{n + 1} payments made", file=sys.stderr)
        # NOTE: on a weekend, a holiday or after the cut-off that date is ahead: send them now
        call("POST", "/payment/process", {"due_on": send_on, "send_now": True})
        database = create_engine(f"sqlite:///{home / 'cbp.db'}")
        terminal = "('completed', 'failed', 'returned')"
        deadline = time.monotonic() + 600
        ended = 0
        while ended < payments:
            if time.monotonic() > deadline:
                raise SystemExit(f"{ended} of {payments} payments ended in 10 minutes")
            time.sleep(1)
            with database.connect() as conn:
                ended = conn.execute(
                    text(f"SELECT count(*) FROM payment_views WHERE status IN {terminal}")
                ).scalar_one()
        database.dispose()
        time.sleep(settle)
        master = next(
            p
            for p in psutil.process_iter(["cmdline"])
            if "serve" in (p.info["cmdline"] or []) and str(port) in (p.info["cmdline"] or [])
        )
        return {
            "serve (gunicorn master)": mib(master),
            "serve (gunicorn worker, API and pump)": mib(master.children()[0]),
        }


def main() -> None:
    """Measure each broker's processes and print one Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", choices=sorted(BROKERS), action="append")
    parser.add_argument(
        "--settle",
        type=float,
        default=SETTLE_SECONDS,
        help="seconds each process is left to start and go idle before it is measured",
    )
    parser.add_argument(
        "--embedded-payments",
        type=int,
        default=0,
        help="measure `cbp serve` on the embedded default after this many payments instead",
    )
    args = parser.parse_args()
    if args.embedded_payments:
        print("| process | after payments | RSS MiB | USS MiB |")
        print("|---|---|---|---|")
        for process, (rss, uss) in embedded_serve(args.embedded_payments, args.settle).items():
            print(f"| {process} | {args.embedded_payments} | {rss:.1f} | {uss:.1f} |")
        return
    rows = []
    for broker in args.broker or ["redis"]:
        url = BROKERS[broker]
        with fresh_database() as database:
            baseline = bare_worker(url, args.settle)
            rows.append((broker, "bare Dramatiq worker", *baseline, baseline[0]))
            with tempfile.TemporaryDirectory() as home:
                for process, (rss, uss) in cbp_processes(
                    url, database, Path(home), args.settle
                ).items():
                    rows.append((broker, process, rss, uss, baseline[0]))
    print("| broker | process | RSS MiB | USS MiB | RSS vs bare Dramatiq |")
    print("|---|---|---|---|---|")
    for broker, process, rss, uss, base in rows:
        print(f"| {broker} | {process} | {rss:.0f} | {uss:.0f} | {rss / base:.2f} |")


if __name__ == "__main__":
    main()
