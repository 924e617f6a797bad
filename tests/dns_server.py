"""A DNS server on loopback answering SRV for ``*.cbp.test``, that can go away and come back."""

from __future__ import annotations

import socket
import threading

import dns.message
import dns.rdatatype
import dns.rrset

ZONE = ".cbp.test."


class SrvServer:
    """Answers SRV for any ``_service._tcp.cbp.test`` with ``ports``, and A with loopback.

    ``stop`` closes the socket (queries then go unanswered); ``start``
    listens again on the same port, as a name server back from an outage.
    """

    def __init__(self, ports: list[int], ttl: int = 1) -> None:
        self.ports = ports
        self.ttl = ttl
        self.port = 0
        self.queries = 0
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        """``host:port``, as ``CBP_DNS_NAMESERVER`` takes it."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> SrvServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", self.port))
        sock.settimeout(0.2)
        self._sock, self.port = sock, sock.getsockname()[1]
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._sock is not None:
            self._sock.close()
        self._sock = self._thread = None

    def _serve(self, sock: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                wire, client = sock.recvfrom(4096)
            except TimeoutError:
                continue
            self.queries += 1
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text()
            if name.endswith(ZONE) and question.rdtype == dns.rdatatype.SRV:
                records = [f"10 {60 - i} {port} p{i}{ZONE}" for i, port in enumerate(self.ports)]
                response.answer.append(dns.rrset.from_text(name, self.ttl, "IN", "SRV", *records))
            elif name.endswith(ZONE) and question.rdtype == dns.rdatatype.A:
                response.answer.append(dns.rrset.from_text(name, self.ttl, "IN", "A", "127.0.0.1"))
            sock.sendto(response.to_wire(), client)
