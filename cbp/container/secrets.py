"""The secrets cbp runs on: from settings, the embedded file beside SQLite, or random in memory."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.setup import local_secrets
from cbp.settings import ConfigurationError, Settings


@dataclass(frozen=True)
class Secrets:
    """The server secret for API keys and the keys that encrypt account numbers."""

    api_key_secret: bytes
    encryption_keys: list[str]
    audit_key_setting: bytes | None = None

    @property
    def audit_key(self) -> bytes:
        """The key of the audit chain: ``CBP_AUDIT_KEY``, else derived from the server secret."""
        if self.audit_key_setting:
            return self.audit_key_setting
        return hmac.new(self.api_key_secret, b"cbp audit chain", hashlib.sha256).digest()

    @property
    def cursor_key(self) -> bytes:
        """The key that signs the API's page cursors, derived from the server secret."""
        return hmac.new(self.api_key_secret, b"cbp page cursors", hashlib.sha256).digest()


def resolve_secrets(settings: Settings) -> Secrets:
    """Secrets from settings; else the embedded file (SQLite) or random ones (memory).

    PostgreSQL serves many processes and must be given both secrets.
    """
    configured_secret = settings.api_key_secret
    configured_keys = settings.encryption_keys
    audit = settings.secret("audit_key")
    audit_key = audit.encode() if audit else None
    backend = settings.backend(settings.database_url)
    if configured_secret is not None and configured_keys is not None:
        keys = [k.strip() for k in configured_keys.get_secret_value().split(",") if k.strip()]
        return Secrets(configured_secret.get_secret_value().encode(), keys, audit_key)
    if backend == "sqlite":
        local = local_secrets(settings.database_url)
        return Secrets(
            (
                configured_secret.get_secret_value() if configured_secret else local.api_key_secret
            ).encode(),
            [k.strip() for k in configured_keys.get_secret_value().split(",")]
            if configured_keys
            else local.encryption_keys,
            audit_key,
        )
    if backend == "memory":
        return Secrets(
            configured_secret.get_secret_value().encode()
            if configured_secret
            else secrets.token_bytes(32),
            [FieldCipher.generate_key()],
            audit_key,
        )
    raise ConfigurationError(
        f"CBP_API_KEY_SECRET and CBP_ENCRYPTION_KEYS must be set for a {backend} database"
    )
