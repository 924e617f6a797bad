"""Encryption of account and routing numbers at rest (Fernet, rotatable)."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class FieldCipher:
    """Encrypts with the first key; decrypts with any, so keys can rotate.

    To rotate: put a new key first in ``CBP_ENCRYPTION_KEYS``, keep the old
    ones after it, run ``cbp keys rotate`` (which re-encrypts every stored
    number with the new key), then drop the old keys.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    @staticmethod
    def generate_key() -> str:
        """A new random key, as ``CBP_ENCRYPTION_KEYS`` takes it."""
        return Fernet.generate_key().decode()

    def encrypt(self, plaintext: str) -> str:
        """A token that holds ``plaintext`` and reveals nothing of it."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        """The plaintext a token holds; ValueError for a foreign or damaged token."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError("stored value cannot be decrypted with the configured keys") from None

    def rotate(self, token: str) -> str:
        """The same plaintext, encrypted again under the first key."""
        return self._fernet.rotate(token.encode()).decode()
