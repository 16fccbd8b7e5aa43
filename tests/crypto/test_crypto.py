"""Personal-data encryption, blind indexes and masking."""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidTag

from backend.crypto import PiiCipher, mask_id_number, mask_phone

ID = "33052319800101123X"


def test_round_trip_and_fresh_nonce() -> None:
    cipher = PiiCipher(os.urandom(32))
    a, b = cipher.encrypt(ID, purpose="person.id"), cipher.encrypt(ID, purpose="person.id")
    assert a != b and ID not in a
    assert cipher.decrypt(a, purpose="person.id") == ID


def test_ciphertext_is_bound_to_its_purpose_and_key() -> None:
    key = os.urandom(32)
    token = PiiCipher(key).encrypt(ID, purpose="person.id")
    with pytest.raises(InvalidTag):
        PiiCipher(key).decrypt(token, purpose="person.phone")
    with pytest.raises(InvalidTag):
        PiiCipher(os.urandom(32)).decrypt(token, purpose="person.id")


def test_blind_index_is_stable_keyed_and_purpose_bound() -> None:
    key = os.urandom(32)
    cipher = PiiCipher(key)
    assert cipher.blind_index(ID, purpose="id") == PiiCipher(key).blind_index(ID, purpose="id")
    assert cipher.blind_index(ID, purpose="id") != cipher.blind_index(ID, purpose="phone")
    assert cipher.blind_index(ID, purpose="id") != PiiCipher(os.urandom(32)).blind_index(
        ID, purpose="id"
    )


def test_key_length_is_checked() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        PiiCipher(b"short")


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        ("0572-5123456", "057*****3456"),
        (None, None),
        ("123", "***"),
    ],
)
def test_mask_phone(value: str | None, masked: str | None) -> None:
    assert mask_phone(value) == masked


def test_mask_id_number() -> None:
    assert mask_id_number(ID) == "330523********123X"
    assert mask_id_number("330523800101123") == "330523*****1123"
    assert mask_id_number(None) is None
