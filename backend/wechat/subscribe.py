"""Subscribe-message data cut to WeChat's value rules, so a long text never costs a 47003."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from backend.wechat.base import SubscribeValue

SHANGHAI = ZoneInfo("Asia/Shanghai")
ELLIPSIS = "…"

_KEY = re.compile(r"([a-z_]+)(\d+)")
_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_NOT_CJK = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff]")
_NOT_ASCII_VISIBLE = re.compile(r"[^\x21-\x7e]")
_NOT_LETTER = re.compile(r"[^A-Za-z]")
_NOT_SYMBOL = re.compile(r"[A-Za-z0-9\s]|[^\x21-\x7e]")
_NOT_NUMBER = re.compile(r"[^0-9.]")
_NOT_PHONE = re.compile(r"[^0-9+\-()#*]")
_DASHES = re.compile(r"-{2,}")


def _text(value: SubscribeValue) -> str:
    if isinstance(value, datetime | date):
        raise ValueError("a date or time belongs in a time or date key")
    return _SPACES.sub(" ", str(value)).strip()


def _cut(text: str, limit: int, *, ellipsis: bool = False) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS if ellipsis else text[:limit]


def _local(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one (UTC inside, Asia/Shanghai shown)")
    return value.astimezone(SHANGHAI)


def _thing(value: SubscribeValue) -> str:
    # Any characters, at most 20; an ellipsis says the text was cut.
    return _cut(_text(value), 20, ellipsis=True)


def _character_string(value: SubscribeValue) -> str:
    # Letters, digits and symbols only (no spaces, no Chinese), at most 32.
    return _cut(_NOT_ASCII_VISIBLE.sub("", _text(value)), 32)


def _letter(value: SubscribeValue) -> str:
    return _cut(_NOT_LETTER.sub("", _text(value)), 32)


def _symbol(value: SubscribeValue) -> str:
    return _cut(_NOT_SYMBOL.sub("", _text(value)), 5)


def _number(value: SubscribeValue) -> str:
    # Digits, optionally with a decimal point, at most 32.
    return _cut(_NOT_NUMBER.sub("", _text(value)), 32)


def _amount(value: SubscribeValue) -> str:
    # The project keeps money in integer fen: an int is shown as yuan.
    if isinstance(value, int) and not isinstance(value, bool):
        sign = "-" if value < 0 else ""
        fen = abs(value)
        return f"{sign}¥{fen // 100}.{fen % 100:02d}"
    return _text(value)


def _phone_number(value: SubscribeValue) -> str:
    # Digits and symbols, at most 17; spaces become dashes (WeChat's own +86-0766-66888866).
    text = _DASHES.sub("-", _NOT_PHONE.sub("", _text(value).replace(" ", "-")))
    return _cut(text.strip("-"), 17).rstrip("-")


def _car_number(value: SubscribeValue) -> str:
    return _cut(_text(value).replace(" ", ""), 8)


def _name(value: SubscribeValue) -> str:
    # At most 10 Chinese characters, or 20 letters; a mixed name counts as Chinese.
    text = _text(value)
    return _cut(text, 10 if _CJK.search(text) else 20)


def _phrase(value: SubscribeValue) -> str:
    # Chinese characters only, at most 5 (e.g. 已受理).
    return _cut(_NOT_CJK.sub("", _text(value)), 5)


def _time(value: SubscribeValue) -> str:
    if isinstance(value, datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return _text(value)


def _date(value: SubscribeValue) -> str:
    if isinstance(value, datetime):
        local = _local(value)
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    return _text(value)


def _enum(value: SubscribeValue) -> str:
    return _text(value)


_RULES: dict[str, Callable[[SubscribeValue], str]] = {
    "thing": _thing,
    "character_string": _character_string,
    "letter": _letter,
    "symbol": _symbol,
    "number": _number,
    "amount": _amount,
    "phone_number": _phone_number,
    "car_number": _car_number,
    "name": _name,
    "phrase": _phrase,
    "time": _time,
    "date": _date,
    "enum": _enum,
}


def fit_subscribe_data(data: Mapping[str, SubscribeValue]) -> dict[str, dict[str, str]]:
    """WeChat's data object ({"thing1": {"value": ...}}) with each value cut to its key's type.

    The type is the key's name less its number (thing1 -> thing). A key of no known type, or a
    value that is empty once cut (WeChat refuses both with 47003), raises ValueError: that is a
    template wired up wrong, which no retry would fix.
    """
    fitted: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        match = _KEY.fullmatch(key)
        rule = _RULES.get(match.group(1)) if match else None
        if rule is None:
            raise ValueError(f"subscribe data key {key!r} is of no known type")
        text = rule(value)
        if not text:
            raise ValueError(f"subscribe data {key!r} is empty once cut to its type's rule")
        fitted[key] = {"value": text}
    return fitted
