"""API keys and scopes: who may call which use case for which tenant."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from cbp.domain.errors import Forbidden, InvalidInput


class Scope(enum.StrEnum):
    """Permissions an API key may carry."""

    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    PAYEES_READ = "payees:read"
    PAYEES_WRITE = "payees:write"
    PAYMENTS_READ = "payments:read"
    PAYMENTS_WRITE = "payments:write"
    EXCEPTIONS_READ = "exceptions:read"
    EXCEPTIONS_WRITE = "exceptions:write"
    DIRECTORY_ADMIN = "directory:admin"
    MESSAGES_ADMIN = "messages:admin"
    WEBHOOKS_ADMIN = "webhooks:admin"

    @classmethod
    def parse(cls, names: list[str] | tuple[str, ...]) -> frozenset[Scope]:
        """Read scope names, refusing unknown ones by name."""
        unknown = sorted(set(names) - {s.value for s in cls})
        if unknown:
            raise InvalidInput(f"unknown scopes: {', '.join(unknown)}")
        return frozenset(cls(name) for name in names)


ALL_SCOPES = frozenset(Scope)


@dataclass(kw_only=True)
class ApiKey:
    """A tenant's API key, stored only as a keyed hash of its secret."""

    id: str
    tenant_id: str
    secret_hash: str
    scopes: frozenset[Scope]
    created_at: datetime
    name: str = ""
    revoked_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        """Whether the key may still be used."""
        return self.revoked_at is None

    def require(self, scope: Scope) -> None:
        """Refuse the call unless the key carries ``scope``."""
        if scope not in self.scopes:
            raise Forbidden(f"this API key lacks the {scope.value} scope")

    def revoke(self, *, at: datetime) -> None:
        """Stop accepting the key; revoking twice keeps the first time."""
        if self.revoked_at is None:
            self.revoked_at = at


@dataclass(frozen=True, kw_only=True)
class Principal:
    """The authenticated caller a use case acts for."""

    tenant_id: str
    key_id: str
    scopes: frozenset[Scope]

    def require(self, scope: Scope) -> None:
        """Refuse the call unless the caller holds ``scope``."""
        if scope not in self.scopes:
            raise Forbidden(f"this API key lacks the {scope.value} scope")
