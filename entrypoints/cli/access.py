"""Tenants, their API keys and their webhook endpoints, from the command line."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from cbp.bootstrap import Cbp
from cbp.services import commands as c

from .base import (
    opened,
)


def cmd_tenant_create(args: argparse.Namespace) -> int:
    """Create a tenant; its id is the last line of output."""
    with opened() as app:
        command = c.CreateTenant(name=args.name, contact_email=args.contact_email, actor="cli")
        print(app.handle(command))
    return 0


def cmd_tenant_list(_: argparse.Namespace) -> int:
    """Print every tenant: id, name, contact address."""
    with opened() as app:
        tenants = app.queries.tenants()
    for tenant in tenants:
        print(f"{tenant.id}\t{tenant.name}\t{tenant.contact_email or '-'}")
    print(f"{len(tenants)} tenants")
    return 0


def cmd_tenant_set_contact(args: argparse.Namespace) -> int:
    """Set the address a tenant is told at when its webhook endpoint is paused."""
    with opened() as app:
        app.handle(c.SetTenantContact(tenant_id=args.tenant, contact_email=args.email, actor="cli"))
    print(f"contact of {args.tenant}: {args.email or 'none'}")
    return 0


def cmd_tenant_set_limits(args: argparse.Namespace) -> int:
    """Set the daily and per-payment limits of each of a tenant's customers."""
    with opened() as app:
        app.handle(
            c.SetCustomerLimits(
                tenant_id=args.tenant,
                daily_limit=args.daily,
                payment_limit=args.per_payment,
                actor="cli",
            )
        )
    print(f"limits of {args.tenant}: daily {args.daily or 'none'}, ", end="")
    print(f"per payment {args.per_payment or 'none'}")
    return 0


def _print_endpoint(app: Cbp, tenant_id: str) -> None:
    endpoint = app.queries.webhook_endpoint(tenant_id)
    print(f"endpoint {endpoint.id} {endpoint.status.value} {endpoint.url}")
    if endpoint.failing_since:
        print(f"failing since {endpoint.failing_since.isoformat()}")


def cmd_webhook_register(args: argparse.Namespace) -> int:
    """Register a tenant's webhook endpoint; the signing secret is the last line, shown once."""
    with opened() as app:
        issued = app.handle(
            c.RegisterWebhookEndpoint(tenant_id=args.tenant, url=args.url, actor="cli")
        )
        _print_endpoint(app, args.tenant)
    print("signing secret (store it now; it is not shown again):")
    print(issued.secret)
    return 0


def cmd_webhook_show(args: argparse.Namespace) -> int:
    """Print the tenant's endpoint and its health."""
    with opened() as app:
        _print_endpoint(app, args.tenant)
    return 0


def cmd_webhook_change(args: argparse.Namespace) -> int:
    """Send a tenant's webhooks to another URL."""
    with opened() as app:
        app.handle(c.ChangeWebhookEndpoint(tenant_id=args.tenant, url=args.url, actor="cli"))
        _print_endpoint(app, args.tenant)
    return 0


def cmd_webhook_rotate(args: argparse.Namespace) -> int:
    """Rotate the signing secret; the new one is the last line, shown once."""
    with opened() as app:
        issued = app.handle(c.RotateWebhookSecret(tenant_id=args.tenant, actor="cli"))
    print("new signing secret (the old one also signs for the overlap):")
    print(issued.secret)
    return 0


def cmd_webhook_resume(args: argparse.Namespace) -> int:
    """Resume a paused endpoint and send it what it missed."""
    with opened() as app:
        replayed = app.handle(c.ResumeWebhookEndpoint(tenant_id=args.tenant, actor="cli"))
    print(f"resumed; {replayed} webhooks queued again")
    return 0


def cmd_webhook_replay(args: argparse.Namespace) -> int:
    """Send the webhooks made since a moment again."""
    try:
        since = datetime.fromisoformat(args.since)
    except ValueError:
        raise SystemExit("--since must be an ISO 8601 moment, e.g. 2026-11-20T00:00:00Z") from None
    if since.tzinfo is None:
        raise SystemExit("--since must carry a time zone (Z or an offset)")
    with opened() as app:
        replayed = app.handle(
            c.ReplayWebhooks(
                tenant_id=args.tenant, since=since, unsent_only=args.unsent_only, actor="cli"
            )
        )
    print(f"{replayed} webhooks queued again")
    return 0


def cmd_webhook_remove(args: argparse.Namespace) -> int:
    """Remove a tenant's webhook endpoint."""
    with opened() as app:
        app.handle(c.RemoveWebhookEndpoint(tenant_id=args.tenant, actor="cli"))
    print(f"removed the webhook endpoint of {args.tenant}")
    return 0


def cmd_api_key_create(args: argparse.Namespace) -> int:
    """Issue an API key; the key is the last line of output, shown once."""
    if bool(args.tenant) == args.operator:
        raise SystemExit("give --tenant ID for a tenant's key, or --operator for an operator key")
    with opened() as app:
        issued = app.handle(
            c.CreateApiKey(
                tenant_id=args.tenant,
                scopes=tuple(scope for group in args.scope for scope in group),
                name=args.name,
                actor="cli",
            )
        )
    print(f"key id {issued.key_id} (store the key below now; it is not shown again)")
    print(issued.token)
    return 0


def cmd_api_key_list(args: argparse.Namespace) -> int:
    """Print the keys: id, tenant, scopes, name, and whether revoked (never a secret)."""
    with opened() as app:
        keys = app.queries.api_keys(args.tenant)
    now = datetime.now(UTC)
    for key in keys:
        state = "active"
        if key.revoked_at is not None:
            retiring = key.is_active_at(now)
            state = f"{'retires' if retiring else 'revoked'} {key.revoked_at.isoformat()}"
        scopes = ",".join(sorted(s.value for s in key.scopes))
        print(f"{key.id}\t{key.tenant_id}\t{scopes}\t{key.name or '-'}\t{state}")
    print(f"{len(keys)} keys")
    return 0


def cmd_api_key_rotate(args: argparse.Namespace) -> int:
    """Issue a key with the same tenant, scopes and name; the old key works for the overlap.

    The new key is the last line of output, shown once.
    """
    with opened() as app:
        issued = app.handle(
            c.RotateApiKey(
                key_id=args.key_id, overlap_seconds=round(args.overlap_hours * 3600), actor="cli"
            )
        )
    print(f"{args.key_id} stops working in {args.overlap_hours:g} hours")
    print(f"key id {issued.key_id} (store the key below now; it is not shown again)")
    print(issued.token)
    return 0


def cmd_api_key_revoke(args: argparse.Namespace) -> int:
    """Revoke an API key by its id."""
    with opened() as app:
        app.handle(c.RevokeApiKey(key_id=args.key_id, actor="cli"))
    print(f"revoked {args.key_id}")
    return 0
