"""Personal data at rest: AES-GCM encryption, HMAC blind indexes, and masking for display."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


class PiiCipher:
    """Encrypts personal fields; the purpose string binds a ciphertext to its column."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("personal-data key must be 32 bytes")
        self._aead = AESGCM(_derive(key, b"yimen pii encryption v1"))
        self._mac_key = _derive(key, b"yimen pii blind index v1")

    def encrypt(self, plaintext: str, *, purpose: str) -> str:
        """Encrypt text; the result is ASCII and safe to store in a text column."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), purpose.encode())
        return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, purpose: str) -> str:
        """Decrypt what encrypt() produced for the same purpose."""
        version, _, payload = token.partition(":")
        if version != _VERSION:
            raise ValueError("unknown ciphertext version")
        raw = base64.urlsafe_b64decode(payload)
        return self._aead.decrypt(raw[:12], raw[12:], purpose.encode()).decode()

    def encrypt_optional(self, plaintext: str | None, *, purpose: str) -> str | None:
        """encrypt(), with nothing to encrypt giving None (optional columns)."""
        return self.encrypt(plaintext, purpose=purpose) if plaintext else None

    def decrypt_optional(self, token: str | None, *, purpose: str) -> str | None:
        """decrypt(), with an empty column giving None."""
        return self.decrypt(token, purpose=purpose) if token else None

    def blind_index(self, value: str, *, purpose: str) -> str:
        """A keyed hash for equality look-ups without decrypting (same value -> same index)."""
        mac = hmac.new(self._mac_key, f"{purpose}\x00{value}".encode(), hashlib.sha256)
        return mac.hexdigest()


def mask_phone(phone: str | None) -> str | None:
    """138****5678: enough to recognise, not enough to call."""
    if not phone:
        return None
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_id_number(id_number: str | None) -> str | None:
    """330523********123X: region and check digits only."""
    if not id_number:
        return None
    n = id_number.strip()
    if len(n) < 10:
        return "*" * len(n)
    return f"{n[:6]}{'*' * (len(n) - 10)}{n[-4:]}"
