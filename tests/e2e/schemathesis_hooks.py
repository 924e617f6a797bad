"""schemathesis hooks for cbp: a fresh Idempotency-Key on every call.

Generated keys repeat across cases, and cbp rightly answers a reused key
with another body ``idempotency_key_reused``; a fresh key per call keeps
each case a first request. Used by ``SCHEMATHESIS_HOOKS``.
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis


@schemathesis.hook
def before_call(context: Any, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    """Replace a generated Idempotency-Key with a fresh one."""
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
