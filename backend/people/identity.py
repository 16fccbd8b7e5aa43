"""ID numbers: normalised to 18 characters, and one blind index for a person everywhere."""

from __future__ import annotations

from datetime import UTC, datetime

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from backend.crypto import PiiCipher

# One purpose for every table that holds an ID number, so the same person matches across them
# (a lead a grid worker filed and an application the household made). Ciphertexts keep their
# own purposes: those bind a ciphertext to its column; the index is for finding the person.
PERSON_ID_INDEX = "person.id"

_PROVINCES = frozenset(
    {
        *(11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37),
        *(41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71),
        # Residence permits of Hong Kong, Macau and Taiwan residents (港澳台居民居住证).
        *(81, 82, 83),
    }
)


EARLIEST_BIRTH_YEAR = 1900


def normalise_id_number(value: str) -> str:
    """An 18-character resident ID (a 15-digit old one is converted), or ValueError."""
    compact = "".join(ric.compact(value).split()).upper()
    if len(compact) == 15 and compact.isdigit():
        # First-generation numbers: insert the century and compute the check digit.
        body = compact[:6] + "19" + compact[6:]
        compact = body + ric.calc_check_digit(body + "0")
    bad = ValueError("身份证号码不正确（请核对位数和最后一位校验码）")
    if len(compact) != 18 or not compact[:17].isdigit():
        raise bad
    if ric.calc_check_digit(compact) != compact[17]:
        raise bad
    # stdnum's own validate() also looks the county up in a table that lacks many current
    # codes (安吉县 330523 among them), so only the province, the date and the digit are checked.
    if int(compact[:2]) not in _PROVINCES:
        raise bad
    try:
        born = ric.get_birth_date(compact)
    except StdnumError:
        raise ValueError("身份证号码中的出生日期不正确") from None
    # No one alive was born before 1900: such a date is a typing slip, not a person.
    if born > datetime.now(UTC).date() or born.year < EARLIEST_BIRTH_YEAR:
        raise ValueError("身份证号码中的出生日期不正确")
    return compact


def person_index(*, cipher: PiiCipher, id_number: str) -> str:
    """The blind index of a person's ID number, the same in every table (15 digits -> 18)."""
    return cipher.blind_index(normalise_id_number(id_number), purpose=PERSON_ID_INDEX)


def person_index_optional(*, cipher: PiiCipher, id_number: str | None) -> str | None:
    """person_index(), with no number giving None."""
    return person_index(cipher=cipher, id_number=id_number) if id_number else None
