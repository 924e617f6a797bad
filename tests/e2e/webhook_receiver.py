"""A tenant's webhook endpoint for end-to-end tests: records what arrives, can fail."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.network import outward_address


class Receiver:
    """A tenant's webhook endpoint on this machine's network address.

    It records what arrives and can be made to fail. Webhooks never go to
    loopback, so it listens where the server reaches it through an allowed network.
    """

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.failing = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.failing:
                    self.send_response(500)
                else:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    receiver.received.append((headers, body))
                    self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.address = outward_address()
        self.server = ThreadingHTTPServer((self.address, 0), Handler)
        self.url = f"http://{self.address}:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ids(self) -> list[str]:
        return [headers["webhook-id"] for headers, _ in self.received]

    def wait_for(self, notification_id: str, timeout: float = 20) -> tuple[dict[str, str], bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for headers, body in list(self.received):
                if headers["webhook-id"] == notification_id:
                    return headers, body
            time.sleep(0.05)
        raise AssertionError(f"{notification_id} never arrived; got {self.ids()}")
