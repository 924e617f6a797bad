"""Standard Webhooks signatures: HMAC-SHA256 over ``id.timestamp.body``.

The secret is ``whsec_`` and base64; the ``webhook-signature`` header holds
one or more space-separated ``v1,<base64 signature>`` (several during a
secret rotation). Used both to sign what cbp sends and to check what it
receives, so the two can never disagree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


class SignatureInvalid(Exception):
    """The webhook's signature, timestamp or headers do not check out."""


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks form."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    secrets_: list[str],
    *,
    message_id: str,
    timestamp: str,
    signature_header: str,
    body: bytes,
    now: float,
    tolerance_seconds: float = 300,
) -> None:
    """Raise ``SignatureInvalid`` unless some secret signed this message recently."""
    if not (message_id and timestamp and signature_header):
        raise SignatureInvalid("missing webhook-id, webhook-timestamp or webhook-signature")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise SignatureInvalid("webhook-timestamp is not a number of seconds")
    sent = int(timestamp)
    if abs(now - sent) > tolerance_seconds:
        raise SignatureInvalid("webhook-timestamp is outside the tolerance")
    given = [s.partition(",")[2] for s in signature_header.split() if s.startswith("v1,")]
    for secret in secrets_:
        expected = sign(secret, message_id=message_id, timestamp=sent, body=body).partition(",")[2]
        if any(hmac.compare_digest(expected, candidate) for candidate in given):
            return
    raise SignatureInvalid("no signature matches")
