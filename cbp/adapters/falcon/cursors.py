"""Cursors as the API hands them out: versioned and signed, so only its own come back.

A storage adapter's cursor carries the sort key of a page's last row. Over
HTTP it is sealed with an HMAC under a key derived from the server secret;
a cursor that was forged, altered, or made by another deployment is refused
before any query runs, so a crafted value can never reach the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cbp.domain.errors import InvalidInput

#: The format's version: a sealed cursor is ``v1.<cursor>.<tag>``.
VERSION = "v1"
#: Bytes of the HMAC kept in a cursor: 128 bits.
TAG_BYTES = 16
#: No cursor the API makes is longer (the schema says so too); a longer one is refused unread.
MAX_LENGTH = 2048


class CursorSeal:
    """Signs the cursors the API hands out and opens the ones it is given back."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def seal(self, cursor: str | None) -> str | None:
        """The cursor as clients see it; ``None`` (no next page) stays ``None``."""
        if cursor is None:
            return None
        return f"{VERSION}.{cursor}.{self._tag(cursor)}"

    def open(self, sealed: str | None) -> str | None:
        """The storage cursor inside ``sealed``; InvalidInput unless the API made it."""
        if not sealed:
            return None
        version, _, rest = sealed.partition(".")
        cursor, _, tag = rest.rpartition(".")
        if (
            len(sealed) > MAX_LENGTH
            or version != VERSION
            or not sealed.isascii()
            or not cursor
            or not hmac.compare_digest(tag, self._tag(cursor))
        ):
            raise InvalidInput("cursor is not valid: pass next_cursor from a page as it was given")
        return cursor

    def _tag(self, cursor: str) -> str:
        digest = hmac.new(self._key, cursor.encode(), hashlib.sha256).digest()[:TAG_BYTES]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
