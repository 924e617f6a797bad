"""Signed webhooks to a tenant's endpoint (Standard Webhooks), guarded against SSRF.

The URL's host is resolved, within a time limit, and every address it
resolves to must be global: loopback, private, shared (100.64.0.0/10),
link-local (cloud metadata), multicast and reserved ranges are refused,
and so is an IPv4 address carried inside IPv6 (mapped, 6to4, Teredo) that
is not global itself, unless it lies in a network the operator allows
(never loopback or link-local: see ``networks``). The check runs again on
every delivery, and the request goes to the address that was checked, so
a name that re-resolves elsewhere between check and use (DNS rebinding)
cannot redirect it.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as LookupTimedOut
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import httpx

from cbp.adapters.http_clients.networks import Address, Network, may_receive
from cbp.domain.errors import InvalidInput
from cbp.domain.notification import Notification
from cbp.domain.webhook_endpoint import WebhookEndpoint
from cbp.domain.webhook_signature import sign
from cbp.ports.errors import DeliveryRejected
from cbp.ports.resilience import OutboundCall

DEPENDENCY = "webhook"
#: How long a webhook host's name may take to resolve.
LOOKUP_SECONDS = 2.0
#: Look-ups run here, so a resolver that never answers holds no request thread past the limit.
_RESOLVER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")


class UnsafeWebhookUrl(DeliveryRejected):
    """The webhook URL points where cbp must not send (an internal address)."""


def check_webhook_url(url: str, *, allowed: tuple[Network, ...] = ()) -> tuple[str, str]:
    """The URL to call and its Host header, once the host's every address may receive."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:  # NOTE: a malformed IPv6 literal, a port out of range
        raise UnsafeWebhookUrl(DEPENDENCY, "the webhook URL is malformed") from None
    if parts.scheme not in ("http", "https") or not host:
        raise UnsafeWebhookUrl(DEPENDENCY, "a webhook URL must be http(s) with a host")
    if port == 0:
        raise UnsafeWebhookUrl(DEPENDENCY, "a webhook URL cannot use port 0")
    addresses = _resolve(host, port)
    if not all(may_receive(address, allowed) for address in addresses):
        raise UnsafeWebhookUrl(DEPENDENCY, "the webhook URL resolves to an internal address")
    host_header = parts.netloc.rpartition("@")[2]
    if parts.scheme == "https":
        return url, host_header  # NOTE: TLS verifies the name, which pins the peer
    first = sorted(addresses, key=str)[0]
    literal = f"[{first}]" if first.version == 6 else str(first)
    netloc = f"{literal}:{port}" if port else literal
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), host_header


def _resolve(host: str, port: int | None) -> set[Address]:
    """Every address ``host`` resolves to, or UnsafeWebhookUrl within ``LOOKUP_SECONDS``."""
    lookup = _RESOLVER.submit(socket.getaddrinfo, host, port or None, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=LOOKUP_SECONDS)
    except LookupTimedOut:
        raise UnsafeWebhookUrl(DEPENDENCY, "the webhook host did not resolve in time") from None
    except (OSError, UnicodeError, ValueError):  # NOTE: "0..0" fails IDNA encoding
        raise UnsafeWebhookUrl(DEPENDENCY, "the webhook host does not resolve") from None
    return {ipaddress.ip_address(info[4][0]) for info in infos}


class HttpWebhookSender:
    """POSTs each notification as JSON to the tenant's endpoint, signed with its secrets.

    While a secret is being rotated the message carries one signature per
    valid secret (space-separated, as Standard Webhooks allows), so a
    receiver on either secret accepts it.
    """

    def __init__(
        self,
        client: httpx.Client,
        call: OutboundCall,
        *,
        allowed_networks: tuple[Network, ...] = (),
    ) -> None:
        self.client = client
        self.call = call
        self.allowed_networks = allowed_networks

    def vet(self, url: str) -> None:
        """Refuse a URL that points inside (checked again on every send)."""
        try:
            check_webhook_url(url, allowed=self.allowed_networks)
        except UnsafeWebhookUrl as error:
            raise InvalidInput(f"url refused: {error.detail}") from None

    def send(self, endpoint: WebhookEndpoint, notification: Notification, *, at: datetime) -> None:
        """Deliver once; the receiver de-duplicates by ``webhook-id`` (the notification id)."""
        target, host = check_webhook_url(endpoint.url, allowed=self.allowed_networks)
        body = json.dumps(
            {
                "type": f"notification.{notification.template}",
                "id": notification.id,
                "customer_id": notification.customer_id,
                "data": notification.payload,
            },
            separators=(",", ":"),
        ).encode()
        timestamp = int(at.timestamp())
        signatures = " ".join(
            sign(secret, message_id=notification.id, timestamp=timestamp, body=body)
            for secret in endpoint.signing_secrets(at)
        )
        headers = {
            "Host": host,
            "Content-Type": "application/json",
            "webhook-id": notification.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures,
        }

        def post(_: str) -> None:
            try:
                response = self.client.post(target, content=body, headers=headers)
            except httpx.HTTPError as error:
                raise DeliveryRejected(DEPENDENCY, type(error).__name__) from None
            if response.status_code >= 300:
                raise DeliveryRejected(DEPENDENCY, f"the endpoint answered {response.status_code}")

        self.call(post, retryable=False)
