"""One blind index for a person; 网格外 on leads; kinds of 400-599 division codes.

- Leads and applications indexed ID numbers under different purposes, so the same person could
  not be matched across them. Every stored ciphertext is decrypted and its index recomputed
  under the one person purpose (15-digit legacy numbers converted to 18 first).
- Lead.outside_grid: a grid worker's report placed outside their grid (within their county).
- Townships and villages coded 400-599 got no kind; they get theirs.

The cipher format, purposes and kinds are frozen here, as they were when this was written: a
later change to backend.crypto or to the enums must not change what this migration does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Frozen values (backend.crypto v1, the purposes of 0004-0008 and of this migration).
_ENCRYPTION_INFO = b"yimen pii encryption v1"
_INDEX_INFO = b"yimen pii blind index v1"
_LEAD_ID = "lead.subject.id"
_APPLICATION_ID = "application.person.id"
_PERSON_INDEX = "person.id"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


class _Keys:
    """The v1 decryption and the person index, frozen."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(_derive(key, _ENCRYPTION_INFO))
        self._mac_key = _derive(key, _INDEX_INFO)

    def decrypt(self, token: str, purpose: str) -> str:
        version, _, payload = token.partition(":")
        if version != "v1":
            raise ValueError("unknown ciphertext version")
        raw = base64.urlsafe_b64decode(payload)
        return self._aead.decrypt(raw[:12], raw[12:], purpose.encode()).decode()

    def person_index(self, id_number: str) -> str:
        value = _eighteen(id_number)
        mac = hmac.new(self._mac_key, f"{_PERSON_INDEX}\x00{value}".encode(), hashlib.sha256)
        return mac.hexdigest()


def _eighteen(id_number: str) -> str:
    """The 18-character form of a stored number (a 15-digit legacy one converted)."""
    compact = "".join(id_number.split()).upper()
    if len(compact) == 15 and compact.isdigit():
        body = compact[:6] + "19" + compact[6:]
        total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True))
        return body + _ID_CHECK[total % 11]
    return compact


async def _rows(client: Any, sql: str) -> list[dict[str, Any]]:
    return list(await client.execute_query_dict(sql))


async def reindex(client: Any, key: bytes) -> int:
    """Recompute every stored ID number's index under the person purpose; rows changed."""
    keys = _Keys(key)
    changed = 0
    leads = await _rows(
        client, "SELECT id, subject_id_enc FROM intake_lead WHERE subject_id_enc IS NOT NULL"
    )
    for row in leads:
        index = keys.person_index(keys.decrypt(row["subject_id_enc"], _LEAD_ID))
        await client.execute_query(
            "UPDATE intake_lead SET subject_id_index = $1 WHERE id = $2", [index, row["id"]]
        )
        changed += 1
    applications = await _rows(
        client, "SELECT id, applicant_id_enc, members FROM cases_application"
    )
    for row in applications:
        token = row["applicant_id_enc"]
        index = keys.person_index(keys.decrypt(token, _APPLICATION_ID)) if token else None
        members = row["members"]
        if isinstance(members, str):
            members = json.loads(members)
        for member in members or []:
            if member.get("id_enc"):
                member["id_index"] = keys.person_index(
                    keys.decrypt(member["id_enc"], _APPLICATION_ID)
                )
        await client.execute_query(
            "UPDATE cases_application SET applicant_id_index = $1, members = $2::jsonb "
            "WHERE id = $3",
            [index, json.dumps(members or [], ensure_ascii=False), row["id"]],
        )
        changed += 1
    return changed


_KINDS_UP = """
UPDATE geo_division SET kind = '类似乡级单位'
    WHERE level = 'township' AND kind IS NULL AND substr(code, 7, 3) BETWEEN '400' AND '599';
UPDATE geo_division SET kind = '类似居委会'
    WHERE level = 'village' AND kind IS NULL AND substr(code, 10, 3) BETWEEN '400' AND '499';
UPDATE geo_division SET kind = '类似村委会'
    WHERE level = 'village' AND kind IS NULL AND substr(code, 10, 3) BETWEEN '500' AND '599';
"""


async def forwards(apps: Any, schema_editor: Any) -> None:
    from backend.config import load_settings

    await schema_editor.client.execute_script(_KINDS_UP)
    await reindex(schema_editor.client, load_settings().pii_key_bytes)


async def backwards(apps: Any, schema_editor: Any) -> None:
    # The old per-table indexes are not restored: code of that time would find no duplicates
    # across tables either way, and a kind filled in is correct for every version.
    return None


class Migration(migrations.Migration):
    dependencies = [("models", "0009_missing_field_indexes")]

    operations = [
        ops.AddField(
            model_name="Lead",
            name="outside_grid",
            field=fields.BooleanField(default=False),
        ),
        ops.RunPython(forwards, backwards),
    ]
