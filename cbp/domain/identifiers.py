"""Time-ordered identifiers (UUIDv7) with a readable type prefix."""

from __future__ import annotations

import os
import threading
import time
import uuid

PAYMENT = "pmt"
RECURRING_PAYMENT = "rps"
BILL = "bil"
PAYEE = "pye"
GLOBAL_PAYEE = "gpy"
FUNDING_ACCOUNT = "fac"
EXCEPTION = "exc"
NOTIFICATION = "ntf"
JOB = "job"
CUSTOMER = "cus"
TENANT = "ten"
API_KEY = "key"
EVENT = "evt"
MESSAGE = "msg"
WEBHOOK_ENDPOINT = "whe"


_lock = threading.Lock()
_last = (0, 0)


def uuid7() -> uuid.UUID:
    """A UUIDv7 (RFC 9562), monotonic within this process.

    48 bits of milliseconds, then a 12-bit counter (RFC 9562 method 1) that
    orders ids made in the same millisecond, then 62 random bits.
    """
    global _last
    with _lock:
        ms = time.time_ns() // 1_000_000
        last_ms, last_counter = _last
        if ms <= last_ms:
            ms, counter = last_ms, last_counter + 1
            if counter > 0xFFF:
                ms, counter = ms + 1, 0
        else:
            counter = int.from_bytes(os.urandom(2), "big") & 0x3FF
        _last = (ms, counter)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def new_id(prefix: str) -> str:
    """A fresh identifier such as ``pmt_0192f0c1...``; sorts by creation time."""
    return f"{prefix}_{uuid7().hex}"


def has_prefix(identifier: str, prefix: str) -> bool:
    """Whether ``identifier`` is of the kind ``prefix`` names."""
    return identifier.startswith(f"{prefix}_")
