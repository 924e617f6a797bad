"""Commands about tenants, their limits and their API keys."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cbp.services.commands.base import Audited, Command


@dataclass(frozen=True, kw_only=True)
class CreateTenant(Command):
    """Register a bank or fintech; its contact hears of trouble with its webhooks."""

    audit = Audited(fields=("name",))

    name: str
    contact_email: str | None = None


@dataclass(frozen=True, kw_only=True)
class SetTenantContact(Command):
    """Change (or clear) the address the tenant is told at when its webhooks fail."""

    audit = Audited(subject="tenant_id")

    tenant_id: str
    contact_email: str | None


@dataclass(frozen=True, kw_only=True)
class SetCustomerLimits(Command):
    """Set (or lift, with None) the risk limits each of the tenant's customers pays within."""

    audit = Audited(subject="tenant_id", fields=("daily_limit", "payment_limit"))

    tenant_id: str
    daily_limit: Decimal | None
    payment_limit: Decimal | None


@dataclass(frozen=True, kw_only=True)
class CreateApiKey(Command):
    """Issue a key for a tenant, or an operator's key (no tenant); the secret is returned once."""

    audit = Audited(fields=("name", "scopes"))

    tenant_id: str | None
    scopes: tuple[str, ...]
    name: str = ""


@dataclass(frozen=True, kw_only=True)
class RevokeApiKey(Command):
    """Stop accepting a key."""

    audit = Audited(subject="key_id")

    key_id: str


@dataclass(frozen=True, kw_only=True)
class RotateApiKey(Command):
    """Issue a key with the same tenant, scopes and name; the old one retires after the overlap."""

    audit = Audited(subject="key_id", fields=("overlap_seconds",))

    key_id: str
    overlap_seconds: int
