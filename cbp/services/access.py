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
from cbp.ports.outside import KeyRevocations
from cbp.ports.storage.unit_of_work import UnitOfWorkFactory
from cbp.ports.system import Clock, IdGenerator
from cbp.services import auditing
from cbp.services.commands import (
    CreateApiKey,
    CreateTenant,
    RevokeApiKey,
    RotateApiKey,
    SetTenantContact,
)
from cbp.services.dependencies import Dependencies, ServiceOptions

_SEPARATOR = "."


@dataclass(frozen=True)
class IssuedKey:
    """A new key: its id, and the full secret, shown to the caller once."""

    key_id: str
    token: str = field(repr=False)


def hash_secret(secret: str, server_secret: bytes) -> str:
    """Keyed hash of a key's secret; only this is stored."""
    return hmac.new(server_secret, secret.encode(), hashlib.sha256).hexdigest()


def create_tenant(
    command: CreateTenant, *, unit_of_work: UnitOfWorkFactory, clock: Clock, ids: IdGenerator
) -> str:
    """Register a tenant with the default payment policy; return its id."""
    tenant = Tenant(
        id=ids.new(identifiers.TENANT),
        name=command.name,
        contact_email=command.contact_email,
        created_at=clock.now(),
    )
    with unit_of_work() as uow:
        uow.tenants.add(tenant)
        auditing.record(uow, command, at=clock.now(), tenant_id=tenant.id, subject_id=tenant.id)
        uow.commit()
    return tenant.id


def set_tenant_contact(
    command: SetTenantContact, *, unit_of_work: UnitOfWorkFactory, clock: Clock
) -> None:
    """Change the address the tenant is told at when its webhooks fail."""
    with unit_of_work() as uow:
        tenant = uow.tenants.get(command.tenant_id)
        updated = replace(tenant, contact_email=command.contact_email)
        uow.tenants.save(updated)
        auditing.record(uow, command, at=clock.now(), tenant_id=tenant.id, subject_id=tenant.id)
        uow.commit()


def create_api_key(
    command: CreateApiKey,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    options: ServiceOptions,
) -> IssuedKey:
    """Issue a key with the given scopes; the token is never stored."""
    scopes = check_scopes(Scope.parse(command.scopes), operator=command.tenant_id is None)
    key, secret = _new_key(command.tenant_id, scopes, command.name, clock, ids, options)
    with unit_of_work() as uow:
        if command.tenant_id is not None:
            uow.tenants.get(command.tenant_id)
        uow.api_keys.add(key)
        auditing.record(
            uow,
            command,
            at=clock.now(),
            tenant_id=key.tenant_id,
            subject_id=key.id,
            data={"scopes": sorted(scopes)},
        )
        uow.commit()
    return IssuedKey(key_id=key.id, token=f"{key.id}{_SEPARATOR}{secret}")


def rotate_api_key(
    command: RotateApiKey,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    options: ServiceOptions,
    key_revocations: KeyRevocations,
) -> IssuedKey:
    """Issue the key's successor, and retire the key once the overlap has passed.

    Both keys work during the overlap, so every client can move to the new
    one before the old stops; a revoked or retired key has no successor.
    """
    if command.overlap_seconds < 0:
        raise InvalidInput("the overlap must not be negative")
    now = clock.now()
    with unit_of_work() as uow:
        old = uow.api_keys.get(command.key_id)
        if not old.is_active_at(now):
            raise InvalidInput(f"API key {old.id} is revoked: issue a new key instead")
        key, secret = _new_key(old.tenant_id, old.scopes, old.name, clock, ids, options)
        retires_at = now + timedelta(seconds=command.overlap_seconds)
        old.revoke(at=retires_at)
        uow.api_keys.save(old)
        uow.api_keys.add(key)
        auditing.record(
            uow,
            command,
            at=now,
            tenant_id=key.tenant_id,
            subject_id=old.id,
            data={"successor": key.id, "retires_at": retires_at.isoformat()},
        )
        uow.commit()
    key_revocations.announce(old.id)
    return IssuedKey(key_id=key.id, token=f"{key.id}{_SEPARATOR}{secret}")


def _new_key(
    tenant_id: str | None,
    scopes: frozenset[Scope],
    name: str,
    clock: Clock,
    ids: IdGenerator,
    options: ServiceOptions,
) -> tuple[ApiKey, str]:
    """A new key and its secret, which only the caller will ever see."""
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        id=ids.new(identifiers.API_KEY),
        tenant_id=tenant_id,
        secret_hash=hash_secret(secret, options.api_key_secret),
        scopes=scopes,
        created_at=clock.now(),
        name=name,
    )
    return key, secret


def revoke_api_key(
    command: RevokeApiKey,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    key_revocations: KeyRevocations,
) -> None:
    """Revoke a key at once; every process refuses it from the moment it hears."""
    with unit_of_work() as uow:
        key = uow.api_keys.get(command.key_id)
        key.revoke(at=clock.now())
        uow.api_keys.save(key)
        auditing.record(uow, command, at=clock.now(), tenant_id=key.tenant_id, subject_id=key.id)
        uow.commit()
    key_revocations.announce(key.id)


def authenticate(token: str, deps: Dependencies) -> Principal:
    """The caller a presented token stands for, or Unauthenticated.

    Every failure gives the same error, so a caller learns nothing about
    which keys exist.
    """
    key_id, _, secret = token.partition(_SEPARATOR)
    if not secret or not identifiers.has_prefix(key_id, identifiers.API_KEY):
        raise Unauthenticated("API key is missing or not valid")
    key = deps.verified_keys.get(key_id)
    verified_before = key is not None
    if key is None:
        with deps.unit_of_work() as uow:
            try:
                key = uow.api_keys.get(key_id)
            except NotFound:
                raise Unauthenticated("API key is missing or not valid") from None
    expected = hash_secret(secret, deps.options.api_key_secret)
    if not hmac.compare_digest(expected, key.secret_hash) or not key.is_active_at(deps.clock.now()):
        raise Unauthenticated("API key is missing or not valid")
    if not verified_before:
        deps.verified_keys.keep(key)  # NOTE: kept from this read on, never renewed by use
    return Principal(tenant_id=key.tenant_id, key_id=key.id, scopes=key.scopes)
