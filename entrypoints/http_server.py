"""The API's HTTP server: an event loop reads every request whole, threads run the app.

gunicorn manages the processes; each runs uvicorn's event loop, which
parses headers (with httptools' C parser) and reads bodies without a
thread, however slowly a client sends them. Only a complete request
reaches the thread pool that runs the WSGI app, so a thousand stalled
clients cost sockets, not threads. A client
stalled in its headers is cut off after ``header_timeout``, one stalled in
its body gets 408 after ``body_timeout``, and a body over the limit gets 413
before it is read, chunked or not. Errors the server answers itself are
``application/problem+json`` like every other error.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote_to_bytes

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker  # type: ignore[import-untyped]

from cbp.adapters.falcon.problems import problem_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: The most a request line and headers may take.
MAX_HEADER_BYTES = 16 * 1024


def problem_response(
    status: int, code: str, detail: str
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """A problem+json body and its headers, closing the connection.

    The request never reached the app, so it gets its id here, as every
    answer does, to quote in a support ticket.
    """
    request_id = f"req_{uuid.uuid4().hex}"
    body = json.dumps(
        problem_body(code=code, detail=detail, request_id=request_id, status=status, title=detail)
    ).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"x-request-id", request_id.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"connection", b"close"),
    ]
    return body, headers


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol on httptools' C parser, with bounded, timed headers.

    A request's line and headers may take ``MAX_HEADER_BYTES`` and must
    arrive within ``header_timeout``; every error the server answers
    itself is a problem.
    """

    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock on the first request's headers."""
        super().connection_made(transport)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._headers_pending = False
        self._header_bytes = 0  # NOTE: bytes received while the headers are incomplete
        self._header_size = 0  # NOTE: the target's and headers' own, as the parser reads them
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        """Take the bytes; headers that run on past their bound are refused."""
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self._awaiting_headers():
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                self.send_400_response("the request's headers are too large")
                return
        self._watch_headers()

    def on_message_begin(self) -> None:
        """A request's first bytes: its headers are awaited, and counted."""
        super().on_message_begin()
        self._headers_pending = True
        self._header_bytes = self._header_size = 0

    def on_url(self, url: bytes) -> None:
        """Count the target toward the headers' bound."""
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count the header toward the headers' bound."""
        self._count(len(name) + len(value) + 4)  # NOTE: with its ": " and line end
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The headers are whole: the request goes on to its body and the app."""
        self._headers_pending = False
        self._header_bytes = self._header_size = 0
        self._stop_header_clock()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        """An idle connection waits on the keep-alive timeout, not the header clock."""
        super().on_response_complete()
        self._watch_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the clock with the connection."""
        self._stop_header_clock()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        """A malformed or oversized request, answered as a problem."""
        body, headers = problem_response(400, "bad_request", "the request is not valid HTTP/1.1")
        lines = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
        self.transport.write(b"HTTP/1.1 400 Bad Request\r\n" + lines + b"\r\n" + body)
        self.transport.close()

    def _count(self, size: int) -> None:
        self._header_size += size
        if self._header_size > MAX_HEADER_BYTES:
            raise httptools.HttpParserError("the request's headers are too large")

    def _awaiting_headers(self) -> bool:
        return self._headers_pending or self.cycle is None

    def _watch_headers(self) -> None:
        if self._awaiting_headers() and self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_late)
        elif not self._awaiting_headers():
            self._stop_header_clock()

    def _stop_header_clock(self) -> None:
        if getattr(self, "_header_deadline", None) is not None:
            assert self._header_deadline is not None
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_late(self) -> None:
        self._header_deadline = None
        if self._awaiting_headers() and not self.transport.is_closing():
            self.transport.close()  # NOTE: nothing was asked: nothing to answer


#: How long a thread may hold the GIL while others wait. The default (5 ms) lets a
#: busy thread hold back one that only waits for its next database reply, once
#: per statement; a request makes about twenty.
GIL_SWITCH_SECONDS = 0.0005


class BufferedWsgi:
    """An ASGI app that reads each request whole, then runs a WSGI app on a thread."""

    def __init__(
        self,
        app: WsgiApp,
        *,
        threads: int,
        max_body_bytes: int,
        body_timeout: float,
        on_shutdown: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.on_shutdown = on_shutdown
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="cbp-http")
        sys.setswitchinterval(GIL_SWITCH_SECONDS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request, or the server's lifespan (no websockets)."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        declared = _header(scope, b"content-length")
        if declared is not None and not (declared.isdigit() and declared.isascii()):
            await _refuse(send, 400, "bad_request", "Content-Length must be a whole number")
            return
        if declared is not None and int(declared) > self.max_body_bytes:
            await _refuse(send, 413, "payload_too_large", self._too_large)
            return
        body = await self._read_body(receive, send)
        if body is None:
            return
        environ = _environ(scope, body)
        loop = asyncio.get_running_loop()
        status, headers, chunks = await loop.run_in_executor(self.pool, _run, self.app, environ)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": chunks})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """On shutdown, after the last request: finish the threads, then close the app's core.

        This runs before the process exits, so work the app does in the
        background (the in-process message pump) stops between two steps,
        never in the middle of one.
        """
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(None, self._close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _close(self) -> None:
        self.pool.shutdown(wait=True)
        if self.on_shutdown is not None:
            self.on_shutdown()

    @property
    def _too_large(self) -> str:
        return f"the body may be at most {self.max_body_bytes} bytes"

    async def _read_body(self, receive: Receive, send: Send) -> bytes | None:
        """The whole body, or None once the client was answered (too slow, too large, gone)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout
        body = bytearray()
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                await _refuse(send, 408, "request_timeout", "the request body came too slowly")
                return None
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                await _refuse(send, 413, "payload_too_large", self._too_large)
                return None
            if not message.get("more_body", False):
                return bytes(body)


async def _refuse(send: Send, status: int, code: str, detail: str) -> None:
    body, headers = problem_response(status, code, detail)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _environ(scope: Scope, body: bytes) -> dict[str, Any]:
    """The WSGI environ of a complete request (PEP 3333), its body already read."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    raw_path = scope.get("raw_path") or scope["path"].encode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
        "RAW_URI": raw_path.decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for key, value in scope["headers"]:
        name = key.decode("latin-1").upper().replace("-", "_")
        if name in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
            continue  # NOTE: the body is whole now: its length is what was read
        if name == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value.decode("latin-1")
            continue
        text = value.decode("latin-1")
        slot = f"HTTP_{name}"
        environ[slot] = f"{environ[slot]},{text}" if slot in environ else text
    return environ


def _run(app: WsgiApp, environ: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Call the WSGI app on this thread; its status, headers and whole body."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda _: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, headers = started
    encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    return int(status.split(" ", 1)[0]), encoded, body


def worker_class(*, header_timeout: float) -> type[UvicornWorker]:
    """A gunicorn worker running uvicorn with the guarded protocol and these limits."""
    protocol = type("Protocol", (GuardedProtocol,), {"header_timeout": header_timeout})
    return type(
        "CbpWorker",
        (UvicornWorker,),
        {
            "CONFIG_KWARGS": {
                "loop": "asyncio",
                "http": protocol,
                "lifespan": "on",
                "access_log": False,
                "server_header": False,
            }
        },
    )
