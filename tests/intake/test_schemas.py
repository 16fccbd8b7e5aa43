"""ID numbers: check digit, old 15-digit form, dates."""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from backend.intake.schemas import normalise_id_number


def _with_check(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17)


def test_valid_numbers_are_normalised() -> None:
    assert normalise_id_number("330523198001011235") == "330523198001011235"
    assert normalise_id_number(" 330523 19800101 1235 ") == "330523198001011235"
    assert normalise_id_number("330523800101123") == "330523198001011235"  # 15-digit form
    x = _with_check("11010519491231150")
    assert x.endswith("X") and normalise_id_number(x.lower()) == x


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("330523198001011234", "校验码"),  # wrong check digit
        ("33052319800101123", "位数"),  # 17 characters
        (_with_check("99052319800101123"), "身份证号码不正确"),  # no such province
        (_with_check("33052319801301123"), "出生日期"),  # month 13
        (_with_check("33052320990101123"), "出生日期"),  # born in the future
    ],
)
def test_bad_numbers_are_refused(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_id_number(value)
