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
    BILLS_READ = "bills:read"
    BILLS_WRITE = "bills:write"
    EXCEPTIONS_READ = "exceptions:read"
    EXCEPTIONS_WRITE = "exceptions:write"
    DIRECTORY_ADMIN = "directory:admin"
    MESSAGES_ADMIN = "messages:admin"
    WEBHOOKS_ADMIN = "webhooks:admin"
    OPERATIONS_READ = "operations:read"

    @classmethod
    def parse(cls, names: list[str] | tuple[str, ...]) -> frozenset[Scope]:
        """Read scope names, refusing unknown ones by name."""
        unknown = sorted(set(names) - {s.value for s in cls})
        if unknown:
            raise InvalidInput(f"unknown scopes: {', '.join(unknown)}")
        return frozenset(cls(name) for name in names)


ALL_SCOPES = frozenset(Scope)
#: What only an operator key (bound to no tenant) may hold: the directory is
#: shared by every tenant, and a process's status is the operator's business.
OPERATOR_ONLY = frozenset({Scope.DIRECTORY_ADMIN, Scope.OPERATIONS_READ})
#: What an operator key may hold (dead letters across every tenant, too).
OPERATOR_SCOPES = OPERATOR_ONLY | {Scope.MESSAGES_ADMIN}
#: What a tenant's key may hold.
TENANT_SCOPES = ALL_SCOPES - OPERATOR_ONLY


def check_scopes(scopes: frozenset[Scope], *, operator: bool) -> frozenset[Scope]:
    """The scopes, if a tenant key (or an operator key) may hold them all."""
    allowed = OPERATOR_SCOPES if operator else TENANT_SCOPES
    extra = sorted(s.value for s in scopes - allowed)
    if extra:
        who = "an operator key" if operator else "a tenant's key (use an operator key)"
        raise InvalidInput(f"{', '.join(extra)} cannot be held by {who}")
    if not scopes:
        raise InvalidInput("a key needs at least one scope")
    return scopes


@dataclass(kw_only=True)
class ApiKey:
    """An API key, stored only as a keyed hash of its secret.

    A tenant's key acts for that tenant; an operator's key (``tenant_id``
    None) administers what all tenants share and sees no tenant's records.
    """

    id: str
    tenant_id: str | None
    secret_hash: str
    scopes: frozenset[Scope]
    created_at: datetime
    name: str = ""
    revoked_at: datetime | None = None

    def is_active_at(self, now: datetime) -> bool:
        """Whether the key may be used at ``now``: not revoked, or retiring later."""
        return self.revoked_at is None or now < self.revoked_at

    def require(self, scope: Scope) -> None:
        """Refuse the call unless the key carries ``scope``."""
        if scope not in self.scopes:
            raise Forbidden(f"this API key lacks the {scope.value} scope")

    def revoke(self, *, at: datetime) -> None:
        """Stop accepting the key from ``at``; a key already retiring sooner keeps its time."""
        if self.revoked_at is None or at < self.revoked_at:
            self.revoked_at = at


@dataclass(frozen=True, kw_only=True)
class Principal:
    """The authenticated caller a use case acts for."""

    tenant_id: str | None
    key_id: str
    scopes: frozenset[Scope]

    @property
    def tenant(self) -> str:
        """The tenant the caller acts for; an operator key acts for none."""
        if self.tenant_id is None:
            raise Forbidden("an operator key acts for no tenant")
        return self.tenant_id

    def require(self, scope: Scope) -> None:
        """Refuse the call unless the caller holds ``scope``."""
        if scope not in self.scopes:
            raise Forbidden(f"this API key lacks the {scope.value} scope")
