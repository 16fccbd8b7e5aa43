"""Phone numbers as people type them: one normal form to store, encrypt and index."""

from __future__ import annotations


def normalise_phone(value: str | None) -> str | None:
    """Digits of a phone number (a +86 prefix dropped), or ValueError."""
    if not value:
        return None
    digits = value.replace("-", "").replace(" ", "")
    if digits.startswith("+86"):
        digits = digits[3:]
    if not digits.isdigit() or not 7 <= len(digits) <= 12:
        raise ValueError("电话号码格式不正确")
    return digits
