"""This machine's address on its network, for receivers a webhook may reach.

Webhooks never go to loopback, so a test receiver listens on the address
the machine would use to reach the outside, inside a network the test allows.
"""

from __future__ import annotations

import os
import socket

import pytest


def outward_address() -> str:
    """The IPv4 address of the interface with the default route (no packet is sent)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # NOTE: a documentation address: UDP connect sends nothing
        address = str(probe.getsockname()[0])
    except OSError:
        address = "127.0.0.1"
    finally:
        probe.close()
    if address.startswith("127."):
        message = "this machine has no network address besides loopback"
        if os.environ.get("CBP_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return address
