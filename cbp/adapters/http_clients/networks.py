"""Which addresses a webhook may go to: the public internet, and networks an operator allows.

An operator running receivers on a private network names those networks
(``CBP_WEBHOOK_ALLOWED_NETWORKS``). No list can open loopback, link-local
(where clouds serve instance metadata), unspecified or multicast space:
those stay closed to every tenant whatever the setting says.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Never reachable by a webhook, whatever networks are allowed.
NEVER_ALLOWED: tuple[Network, ...] = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "0.0.0.0/8",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "224.0.0.0/4",
        "255.255.255.255/32",
        "::/128",
        "::1/128",
        "fe80::/10",
        "ff00::/8",
    )
)


def allowed_networks(text: str | Iterable[str]) -> tuple[Network, ...]:
    """The networks in a comma-separated list of CIDRs; ValueError says which one is refused."""
    items = text.split(",") if isinstance(text, str) else list(text)
    networks: list[Network] = []
    for item in (part.strip() for part in items):
        if not item:
            continue
        try:
            network = ipaddress.ip_network(item)
        except ValueError:
            raise ValueError(f"{item!r} is not a network such as 10.20.0.0/16") from None
        for closed in NEVER_ALLOWED:
            if network.version == closed.version and network.overlaps(closed):
                raise ValueError(f"{item} overlaps {closed}, which webhooks can never reach")
        networks.append(network)
    return tuple(networks)


def may_receive(address: Address, allowed: tuple[Network, ...] = ()) -> bool:
    """Whether a webhook may go to ``address``, and to any IPv4 address it carries.

    Global addresses may; others only inside an allowed network. An IPv6
    address carrying an IPv4 one (mapped, 6to4, Teredo) is judged by that too.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # NOTE: the IPv4 address, written as IPv6
            return may_receive(address.ipv4_mapped, allowed)
        carried = [address.sixtofour, *(address.teredo or ())]
        if any(inner is not None and not may_receive(inner, allowed) for inner in carried):
            return False
    if any(address in closed for closed in NEVER_ALLOWED):
        return False
    if address.is_global:
        return True
    return any(address in network for network in allowed)
