"""Clients that stall, trickle, chunk or linger: the server stays up for everyone else."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import Server, make_world, running_server

TIMEOUTS = {
    "CBP_HTTP_HEADER_TIMEOUT_SECONDS": "2",
    "CBP_HTTP_BODY_TIMEOUT_SECONDS": "2",
    "CBP_RATE_LIMIT": "1000000",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("hostile"), TIMEOUTS) as server:
        yield server


def connect(server: Server) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One whole response from a raw socket, and not a byte of the one after it.

    Responses to requests sent back to back may arrive in one segment: the
    head is peeked at and only its own bytes taken, then only its body's.
    """
    data = b""
    while True:
        peeked = sock.recv(65536, socket.MSG_PEEK)
        if not peeked:
            raise ConnectionError(f"closed after {data!r}")
        end = (data + peeked).find(b"\r\n\r\n")
        if end >= 0:
            data += sock.recv(end + 4 - len(data))
            break
        data += sock.recv(len(peeked))
    lines = data[:-4].decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    body = b""
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(int(headers["content-length"]) - len(body))
        if not chunk:
            raise ConnectionError(f"closed in the body, after {body!r}")
        body += chunk
    return int(lines[0].split()[1]), headers, body


#: How long a test waits for the server to close a connection it should close: far
#: past the 2 s time-outs above, so that only a connection kept open fails the test.
CLOSE_WAIT_SECONDS = 30


def closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False


def test_two_hundred_stalled_clients_do_not_stop_anyone_else(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    patient = TIMEOUTS | {"CBP_HTTP_HEADER_TIMEOUT_SECONDS": "60"}
    with running_server(tmp_path_factory.mktemp("stalled"), patient) as server:
        stalled = []
        for _ in range(200):
            sock = connect(server)
            sock.sendall(b"GET /payment HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ")
            stalled.append(sock)
        try:
            for path, key in (("/health/live", ""), ("/payment?limit=1", None)):
                response = server.call("GET", path, key=key)
                assert response.status == 200, response.body
            # NOTE: answered while all 200 still held their connections: not after the
            # server cut them off at its 60 s header time-out, which a waiting request would
            assert not any(closed_within(sock, 0.01) for sock in stalled), "a stalled one went"
        finally:
            for sock in stalled:
                sock.close()


def test_a_client_stalled_in_its_headers_is_cut_off(server: Server) -> None:
    sock = connect(server)
    sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
    assert closed_within(sock, CLOSE_WAIT_SECONDS), "a half-sent request kept its connection"
    silent = connect(server)
    assert closed_within(silent, CLOSE_WAIT_SECONDS), "a connection that never spoke was kept"


def test_a_client_stalled_in_its_body_gets_408(server: Server) -> None:
    sock = connect(server)
    sock.sendall(
        b"POST /customer HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + server.key.encode()
        + b'\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name"'
    )
    status, headers, body = read_response(sock)
    assert status == 408
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["code"] == "request_timeout"
    assert closed_within(sock, CLOSE_WAIT_SECONDS)


def chunked(
    server: Server, method: str, path: str, body: bytes
) -> tuple[int, dict[str, str], bytes]:
    sock = connect(server)
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.key}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    pieces = [body[i : i + 1000] for i in range(0, len(body), 1000)]
    framed = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces) + b"0\r\n\r\n"
    sock.sendall(head + framed)
    try:
        return read_response(sock)
    finally:
        sock.close()


def test_chunked_bodies_are_read_and_bounded(server: Server) -> None:
    world = make_world(server, external_id="chunky")
    status, _, body = chunked(
        server, "PATCH", f"/payee/{world['payee_id']}", json.dumps({"status": "inactive"}).encode()
    )
    assert status == 200, body
    assert server.call("GET", f"/payee/{world['payee_id']}").body["status"] == "inactive"
    status, headers, body = chunked(
        server, "POST", "/customer", b'{"name": "' + b"x" * 150_000 + b'"}'
    )
    assert (status, json.loads(body)["code"]) == (413, "payload_too_large")
    assert headers["connection"] == "close"


def test_a_413_says_close_and_closes(server: Server) -> None:
    sock = connect(server)
    sock.sendall(
        b"POST /customer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 9999999\r\n\r\n"
    )
    status, headers, body = read_response(sock)
    assert (status, headers["connection"]) == (413, "close")
    request_id = json.loads(body)["request_id"]
    assert request_id and request_id.startswith("req_") and headers["x-request-id"] == request_id
    assert closed_within(sock, CLOSE_WAIT_SECONDS)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"NOT HTTP AT ALL\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000,  # NOTE: headers never end
        b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",  # NOTE: whole, too long
        b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Many: b\r\n" * 2_000 + b"\r\n",
    ],
)
def test_requests_the_server_refuses_itself_are_problems_too(
    server: Server, request_bytes: bytes
) -> None:
    sock = connect(server)
    sock.sendall(request_bytes)
    status, headers, body = read_response(sock)
    sock.close()
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 400


def test_a_body_that_arrives_with_its_headers_is_not_taken_for_them(server: Server) -> None:
    body = json.dumps({"padding": "x" * 40_000}).encode()
    head = (
        b"POST /payment/one-time HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    sock = connect(server)
    sock.sendall(head + body)  # NOTE: one write: the server reads headers and body together
    status, headers, _ = read_response(sock)
    sock.close()
    assert status == 401  # NOTE: the app answered: no key was given
    assert headers["content-type"] == "application/problem+json"


def test_requests_sent_back_to_back_on_one_connection_are_answered_in_order(
    server: Server,
) -> None:
    one = b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"
    sock = connect(server)
    sock.sendall(one * 3)
    statuses = [read_response(sock)[0] for _ in range(3)]
    sock.close()
    assert statuses == [200, 200, 200]


#: Polls two seconds apart: 36 s, past the 2 s header and body clocks many times
#: over, and past gunicorn's 30 s worker time-out, which an idle loop must outlive.
POLLS = 18


@pytest.mark.slow
def test_a_client_polling_every_two_seconds_on_one_connection_is_never_dropped(
    server: Server,
) -> None:
    transport = httpx.HTTPTransport(retries=0)  # NOTE: a dropped connection must show
    limits = httpx.Limits(max_connections=1, keepalive_expiry=5.0)
    with httpx.Client(base_url=server.base_url, transport=transport, limits=limits) as client:
        seen: list[Any] = []
        for _ in range(POLLS):
            response = client.get("/health/live")
            seen.append(response.status_code)
            time.sleep(2)
    assert seen == [200] * POLLS


def test_the_server_log_holds_no_traceback(server: Server) -> None:
    log = (Path(server.home) / "serve.log").read_text()
    assert "Traceback" not in log, log[-3000:]
