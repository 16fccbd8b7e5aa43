"""Numbers people read and keys that recognise a repeated request.

A record's number is `{prefix}-{year}-{n:05d}` from one counter row per prefix and year; a
fingerprint is a keyed hash of a request body, for replay checks.
"""

from __future__ import annotations

import json

from pydantic import BaseModel
from tortoise import connections

from backend.crypto import PiiCipher


async def next_number(prefix: str, year: int) -> str:
    """The next number of a township's year, in one atomic statement of its own.

    Taken outside the lead's transaction so the counter row is locked only for an instant
    (a lock held across the whole insert serialised every report of a township). A lead whose
    transaction then fails leaves a gap, never a duplicate.
    """
    key = f"{prefix}-{year}"
    conn = connections.get("default")
    rows = await conn.execute_query_dict(
        "INSERT INTO intake_counter (key, value) VALUES ($1, 1) "
        "ON CONFLICT (key) DO UPDATE SET value = intake_counter.value + 1 RETURNING value",
        [key],
    )
    return f"{key}-{int(rows[0]['value']):05d}"


def fingerprint(model: BaseModel, cipher: PiiCipher) -> str:
    """A keyed hash of a request body, for replay checks.

    Keyed, because the body holds phone and ID numbers while the rest of it is stored in clear:
    a plain hash could be reversed by trying every phone number against it.
    """
    canonical = json.dumps(model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return cipher.blind_index(canonical, purpose="request.fingerprint")
