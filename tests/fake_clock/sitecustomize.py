"""Loaded into every Python process of a test run under libfaketime (see scripts/test).

libfaketime 0.9.10, as Debian ships it, answers Python 3.11's ``time.sleep``
with EINVAL when the monotonic clock is left real: it shifts the absolute
monotonic deadline that ``clock_nanosleep`` is given by the fake offset.
Sleeping on ``select`` instead takes a relative timeout, which it leaves
alone. Nothing else is changed: wall-clock time stays faked, monotonic time
real, so timeouts and lock waits behave as they do in production.
"""

import os
import select
import time

if os.environ.get("FAKETIME"):

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        select.select([], [], [], seconds)

    time.sleep = _sleep
