"""Tenants and API keys: issuing, revoking and checking keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field, replace
from datetime import timedelta

from cbp.domain import identifiers
from cbp.domain.access import ApiKey, Principal, Scope, check_scopes
from cbp.domain.customer import Tenant
from cbp.domain.errors import InvalidInput, NotFound, Unauthenticated
from cbp.ports.broadcasts import Broadcast
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitsOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.services.commands import (
    CreateApiKey,
    CreateTenant,
    RevokeApiKey,
    RotateApiKey,
    SetTenantContact,
)
from cbp.services.verified_keys import VerifiedKeys

_SEPARATOR = "."


@dataclass(frozen=True)
class IssuedKey:
    """A new key: its id, and the full secret, shown to the caller once."""

    key_id: str
    token: str = field(repr=False)

    @property
    def id(self) -> str:
        """The key's id, as the audit log names the key a command issued."""
        return self.key_id


def hash_secret(secret: str, server_secret: bytes) -> str:
    """Keyed hash of a key's secret; only this is stored."""
    return hmac.new(server_secret, secret.encode(), hashlib.sha256).hexdigest()


def create_tenant(command: CreateTenant, *, uow: UnitOfWork, clock: Clock, ids: IdGenerator) -> str:
    """Register a tenant with the default payment policy; return its id."""
    tenant = Tenant(
        id=ids.new(identifiers.TENANT),
        name=command.name,
        contact_email=command.contact_email,
        created_at=clock.now(),
    )
    uow.tenants.add(tenant)
    return tenant.id


def set_tenant_contact(command: SetTenantContact, *, uow: UnitOfWork) -> None:
    """Change the address the tenant is told at when its webhooks fail."""
    tenant = uow.tenants.get(command.tenant_id)
    updated = replace(tenant, contact_email=command.contact_email)
    uow.tenants.save(updated)


def create_api_key(
    command: CreateApiKey,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator,
    api_key_secret: bytes,
) -> IssuedKey:
    """Issue a key with the given scopes; the token is never stored."""
    scopes = check_scopes(Scope.parse(command.scopes), operator=command.tenant_id is None)
    key, secret = _new_key(command.tenant_id, scopes, command.name, clock, ids, api_key_secret)
    if command.tenant_id is not None:
        uow.tenants.get(command.tenant_id)
    uow.api_keys.add(key)
    return IssuedKey(key_id=key.id, token=f"{key.id}{_SEPARATOR}{secret}")


def rotate_api_key(
    command: RotateApiKey,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator,
    api_key_secret: bytes,
    key_revocations: Broadcast,
) -> IssuedKey:
    """Issue the key's successor, and retire the key once the overlap has passed.

    Both keys work during the overlap, so every client can move to the new
    one before the old stops; a revoked or retired key has no successor.
    """
    if command.overlap_seconds < 0:
        raise InvalidInput("the overlap must not be negative")
    now = clock.now()
    old = uow.api_keys.get(command.key_id)
    if not old.is_active_at(now):
        raise InvalidInput(f"API key {old.id} is revoked: issue a new key instead")
    key, secret = _new_key(old.tenant_id, old.scopes, old.name, clock, ids, api_key_secret)
    retires_at = now + timedelta(seconds=command.overlap_seconds)
    old.revoke(at=retires_at)
    uow.api_keys.save(old)
    uow.api_keys.add(key)
    key_revocations.announce(old.id)
    return IssuedKey(key_id=key.id, token=f"{key.id}{_SEPARATOR}{secret}")


def _new_key(
    tenant_id: str | None,
    scopes: frozenset[Scope],
    name: str,
    clock: Clock,
    ids: IdGenerator,
    api_key_secret: bytes,
) -> tuple[ApiKey, str]:
    """A new key and its secret, which only the caller will ever see."""
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        id=ids.new(identifiers.API_KEY),
        tenant_id=tenant_id,
        secret_hash=hash_secret(secret, api_key_secret),
        scopes=scopes,
        created_at=clock.now(),
        name=name,
    )
    return key, secret


def revoke_api_key(
    command: RevokeApiKey,
    *,
    uow: UnitOfWork,
    clock: Clock,
    key_revocations: Broadcast,
) -> None:
    """Revoke a key at once; every process refuses it from the moment it hears."""
    key = uow.api_keys.get(command.key_id)
    key.revoke(at=clock.now())
    uow.api_keys.save(key)
    key_revocations.announce(key.id)


@dataclass(frozen=True, kw_only=True)
class Authenticator:
    """Tells the caller a presented token stands for, or refuses it as Unauthenticated.

    Every failure gives the same error, so a caller learns nothing about
    which keys exist. A key read once is kept in ``verified_keys``, which
    forgets it when it is revoked.
    """

    unit_of_work: UnitsOfWork
    verified_keys: VerifiedKeys
    clock: Clock
    api_key_secret: bytes = field(repr=False)

    def __call__(self, token: str) -> Principal:
        """The caller ``token`` stands for."""
        key_id, _, secret = token.partition(_SEPARATOR)
        if not secret or not identifiers.has_prefix(key_id, identifiers.API_KEY):
            raise Unauthenticated("API key is missing or not valid")
        key = self.verified_keys.get(key_id)
        verified_before = key is not None
        if key is None:
            with self.unit_of_work(read_only=True) as uow:
                try:
                    key = uow.api_keys.get(key_id)
                except NotFound:
                    raise Unauthenticated("API key is missing or not valid") from None
        expected = hash_secret(secret, self.api_key_secret)
        if not hmac.compare_digest(expected, key.secret_hash) or not key.is_active_at(
            self.clock.now()
        ):
            raise Unauthenticated("API key is missing or not valid")
        if not verified_before:
            self.verified_keys.keep(key)  # NOTE: kept from this read on, never renewed by use
        return Principal(tenant_id=key.tenant_id, key_id=key.id, scopes=key.scopes)
