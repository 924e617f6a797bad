"""Payment creation over HTTP: `cbp serve` against bare Falcon + one SQLAlchemy insert.

    .venv/bin/python bench/http_payments.py --requests 2000 --clients 8

Both run under gunicorn (gthread, 1 worker, 8 threads) on the same fresh
PostgreSQL database; the same client threads POST keep-alive requests to
each in turn. cbp's request does everything a real one does: key check, rate
limit, idempotency record, validation, the payment's events, view, outbox
and audit entries in one transaction.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
from redis_keys import forget_prefix
from scratch_database import create_database, drop_database

from cbp.adapters.sql.crypto import FieldCipher

HERE = Path(__file__).parent


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(port: int, path: str) -> None:
    """Return once the server on ``port`` answers ``path``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answered on port {port}")


#: Sends client ``n``'s ``i``-th request on a keep-alive connection.
Send = Callable[[http.client.HTTPConnection, int, int], None]


def load(
    port: int,
    requests: int,
    clients: int,
    body: dict[str, str],
    headers: dict[str, str],
    *,
    pace: float | None = None,
) -> tuple[float, list[float]]:
    """POST /payment/one-time from ``clients`` threads, each with its own Idempotency-Key.

    With a ``pace``, the requests are sent at that many a second in all.
    """

    def send(connection: http.client.HTTPConnection, n: int, i: int) -> None:
        sent = {**headers, "Idempotency-Key": f"bench-{n}-{i}-{uuid.uuid4().hex[:6]}"}
        connection.request("POST", "/payment/one-time", json.dumps(body), sent)

    return load_with(port, requests, clients, send, expect=201, pace=pace)


def load_with(
    port: int, requests: int, clients: int, send: Send, *, expect: int, pace: float | None = None
) -> tuple[float, list[float]]:
    """Requests per second and each request's latency (ms), from ``clients`` threads.

    With a ``pace`` (requests a second, in all), each request waits for its
    turn in an even schedule, and its latency counts from when it is sent.
    """
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = requests // clients
    start = time.perf_counter()

    def client(n: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for i in range(per_client):
            if pace is not None:
                time.sleep(max(0.0, start + (i * clients + n) / pace - time.perf_counter()))
            began = time.perf_counter()
            send(connection, n, i)
            reply = connection.getresponse()
            reply.read()
            if reply.status != expect:
                raise SystemExit(f"status {reply.status}")
            mine.append((time.perf_counter() - began) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.perf_counter() - start), latencies


@contextmanager
def serving(env: dict[str, str], home: Path) -> Iterator[int]:
    """`cbp serve` on a free port until the block ends."""
    port = free_port()
    with (home / "serve.out").open("ab") as out:
        served = subprocess.Popen(
            [sys.executable, "-m", "cbp.entrypoints.cli", "serve", "--port", str(port)],
            env=env,
            cwd=home,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
    try:
        wait_until_up(port, "/health/live")
        yield port
    finally:
        stop(served)


def stop(process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """SIGTERM, then SIGKILL if the process has not stopped within ``timeout``."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cbp_world(port: int, key: str) -> dict[str, str]:
    """A customer, a verified payee and a funding account made over HTTP."""

    def call(method: str, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        connection.request(method, path, None if body is None else json.dumps(body), headers)
        reply = connection.getresponse()
        answer = json.loads(reply.read() or b"{}")
        if reply.status >= 400:
            raise SystemExit(f"{method} {path}: {reply.status} {answer}")
        return answer  # type: ignore[no-any-return]

    customer = call("POST", "/customer", {"external_id": "bench", "name": "B", "email": "b@x.io"})
    biller = call("GET", "/payee/global-payee/name/pacific%20gas")["items"][0]  # type: ignore[index]
    payee = call(
        "POST",
        "/payee",
        {
            "customer_id": customer["id"],
            "global_payee_id": biller["id"],  # type: ignore[index]
            "account_number": "4417123456",
        },
    )
    deadline = time.monotonic() + 30
    while call("GET", f"/payee/{payee['id']}")["verification_status"] != "verified":
        if time.monotonic() > deadline:
            raise SystemExit("the payee was never verified")
        time.sleep(0.2)
    funding = call(
        "POST",
        "/funding-account",
        {
            "customer_id": customer["id"],
            "routing_number": "011000015",
            "account_number": "000123456789",
            "account_type": "checking",
            "holder_name": "B",
        },
    )
    return {
        "customer_id": str(customer["id"]),
        "payee_id": str(payee["id"]),
        "funding_account_id": str(funding["id"]),
    }


def main() -> None:
    """Serve each app in turn, load it, print one Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--http-workers", type=int, default=1, help="gunicorn workers of each")
    args = parser.parse_args()
    database = create_database()
    folder = tempfile.TemporaryDirectory()
    home = Path(folder.name)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("CBP_", "BENCH_"))}
    rows = []
    try:
        port = free_port()
        bare = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--chdir",
                str(HERE),
                "-k",
                "gthread",
                "-w",
                str(args.http_workers),
                "--threads",
                "8",
                "-b",
                f"127.0.0.1:{port}",
                "bare_app:app",
            ],
            env=base_env | {"BENCH_DATABASE_URL": database},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(port, "/")
            body = {"customer_id": "cus_bench", "amount": "42.00"}
            root = psutil.Process(bare.pid)
            rows.append(
                (
                    "bare Falcon + insert",
                    *load_counting_cpu(
                        [root, *root.children()],
                        lambda: load(
                            port,
                            args.requests,
                            args.clients,
                            body,
                            {"Content-Type": "application/json"},
                        ),
                        args.requests,
                    ),
                )
            )
        finally:
            stop(bare)

        env = base_env | {
            "CBP_DATABASE_URL": database,
            "CBP_AUTO_MIGRATE": "true",
            "CBP_DEMO_SEED": "true",
            "CBP_API_KEY_SECRET": "bench",
            "CBP_ENCRYPTION_KEYS": FieldCipher.generate_key(),
            "CBP_RATE_LIMIT": "100000000",
            "CBP_LOG_LEVEL": "WARNING",
            "CBP_PROCESSOR_LEDGER_PATH": str(home / "ledger.sqlite3"),  # NOTE: shared by workers
        }
        with serving(env, home) as port:  # NOTE: its pump verifies the payee
            key = next(
                line
                for line in (home / "serve.out").read_text().splitlines()
                if line.startswith("key_")
            )
            world = cbp_world(port, key)
        # NOTE: as in production, the API process only serves; the relay and workers
        # would run elsewhere (not started here), so no in-process pump competes.
        env |= {
            "CBP_HTTP_WORKERS": str(args.http_workers),
            "CBP_BROKER_URL": "redis://127.0.0.1:6379/0",
            "CBP_REDIS_PREFIX": f"bench{uuid.uuid4().hex[:8]}:",
        }
        try:
            with serving(env, home) as port:
                body = {**world, "amount": "42.00"}
                headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
                rows.append(
                    (
                        "cbp serve",
                        *load_counting_cpu(
                            serving_processes(port),
                            lambda: load(port, args.requests, args.clients, body, headers),
                            args.requests,
                        ),
                    )
                )
                rate = rows[-1][1]
                rows.append(
                    (
                        f"cbp serve at half its rate ({rate / 2:.0f}/s)",
                        *load_counting_cpu(
                            serving_processes(port),
                            lambda: load(
                                port, args.requests, args.clients, body, headers, pace=rate / 2
                            ),
                            args.requests,
                        ),
                    )
                )
                largest = largest_serving_process_mib(port)
        finally:
            forget_prefix(env["CBP_BROKER_URL"], env["CBP_REDIS_PREFIX"])
    finally:
        drop_database(database)
        folder.cleanup()

    print_table(rows)
    print(f"\ncbp serve's largest process after the load: {largest:.1f} MiB resident")


def serving_processes(port: int) -> list[psutil.Process]:
    """The `cbp serve` on ``port``: its master and its workers."""
    master = next(
        p
        for p in psutil.process_iter(["cmdline"])
        if "serve" in (p.info["cmdline"] or []) and str(port) in (p.info["cmdline"] or [])
    )
    return [master, *master.children()]


def largest_serving_process_mib(port: int) -> float:
    """Resident memory of the largest process of the `cbp serve` on ``port`` (MiB)."""
    return max(p.memory_info().rss for p in serving_processes(port)) / 2**20


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """CPU seconds the processes have spent so far, user and system (none for one gone)."""
    spent = 0.0
    for process in processes:
        try:
            spent += sum(process.cpu_times()[:2])
        except psutil.Error:
            continue
    return spent


def load_counting_cpu(
    processes: list[psutil.Process], run: Callable[[], tuple[float, list[float]]], requests: int
) -> tuple[float, list[float], float]:
    """``run``'s rate and latencies, and the servers' CPU ms a request meanwhile."""
    before = cpu_seconds(processes)
    rate, latencies = run()
    return rate, latencies, (cpu_seconds(processes) - before) * 1000 / requests


def print_table(rows: list[tuple[str, float, list[float], float]]) -> None:
    """One Markdown row per server, its rate against the first row's."""
    baseline = rows[0][1]
    print("| server | requests/s | p50 ms | p99 ms | server CPU ms a request | vs baseline |")
    print("|---|---|---|---|---|---|")
    for label, rate, latencies, cpu_ms in rows:
        ordered = sorted(latencies)
        p50 = statistics.median(ordered)
        p99 = ordered[int(len(ordered) * 0.99) - 1]
        print(
            f"| {label} | {rate:.0f} | {p50:.1f} | {p99:.1f} | {cpu_ms:.2f} "
            f"| {rate / baseline:.2f} |"
        )


if __name__ == "__main__":
    main()
