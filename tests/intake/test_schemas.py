"""ID numbers: check digit, old 15-digit form, dates."""

from __future__ import annotations

import pytest
from stdnum.cn import ric

from backend.intake.schemas import normalise_id_number


def _with_check(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def test_valid_numbers_are_normalised() -> None:
    assert normalise_id_number("330523198001011233") == "330523198001011233"
    assert normalise_id_number(" 330523 19800101 1233 ") == "330523198001011233"
    assert normalise_id_number("330523800101123") == "330523198001011233"  # 15-digit form
    x = _with_check("11010519491231002")
    assert x.endswith("X") and normalise_id_number(x.lower()) == x


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("330523198001011234", "校验码"),  # wrong check digit
        ("33052319800101123", "位数"),  # 17 characters
        (_with_check("99052319800101123"), "身份证号码不正确"),  # no such province
        (_with_check("33052319801301123"), "出生日期"),  # month 13
        (_with_check("33052320990101123"), "出生日期"),  # born in the future
        # Born 1800-01-01, check digit worked by hand: 21+27+0+25+16+12+2+8+0+0+0+9+0+5+8+8+6
        # = 147, 147 mod 11 = 4 -> 8. A valid digit, a date no living person has.
        ("330523180001011238", "出生日期"),
    ],
)
def test_bad_numbers_are_refused(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_id_number(value)


def test_the_check_digit_follows_gb_11643() -> None:
    # The standard's worked example, and its 15-digit first-generation form.
    assert normalise_id_number("11010519491231002X") == "11010519491231002X"
    assert normalise_id_number("110105491231002") == "11010519491231002X"
    # A digit computed over the wrong span of the number used to pass.
    for wrong in ("330523199001011232", "110105194912310021"):
        with pytest.raises(ValueError, match="校验码"):
            normalise_id_number(wrong)


# Residence permits of Hong Kong (81), Macau (82) and Taiwan (83) residents: the same form as a
# resident ID, region digits 810000/820000/830000. Check digits worked by hand from GB 11643:
# weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, sum mod 11 -> 1 0 X 9 8 7 6 5 4 3 2.
#   83000019900101001: 56+27+2+9+54+9+5+2 = 164, 164 mod 11 = 10 -> 2
#   81000019940823002: 56+9+2+9+54+12+72+20+15+4 = 253, 253 mod 11 = 0 -> 1
#   82000020000909001: 56+18+4+81+45+2 = 206, 206 mod 11 = 8 -> 4
@pytest.mark.parametrize(
    "number", ["830000199001010012", "810000199408230021", "820000200009090014"]
)
def test_hong_kong_macau_and_taiwan_residence_permits_are_identities(number: str) -> None:
    assert normalise_id_number(number) == number


@pytest.mark.parametrize(
    "number", ["830000199001010013", "810000199408230020", "820000200009090015"]
)
def test_residence_permits_with_a_wrong_check_digit_are_refused(number: str) -> None:
    with pytest.raises(ValueError, match="校验码"):
        normalise_id_number(number)
