"""A capped photo upload of a record: its original kept, its row written, a retry replayed.

One home for what a lead's photos and an application's documents share: at most `cap` rows per
record, a retry of the same client_photo_id answers the first upload, and the same
client_photo_id with other bytes is a conflict. The caller's model owns the row.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from backend.errors import Conflict

Row = TypeVar("Row", bound=Model)
PutOriginal = Callable[[str, bytes, str], Awaitable[None]]
REUSED_MESSAGE = "这个照片编号已用于另一张照片；新照片请使用新的编号"
RACE_MESSAGE = "照片上传冲突，请重试"


@dataclass(frozen=True)
class CappedUpload(Generic[Row]):
    """Where a record's uploads live: the row model and the name of its record's foreign key.

    The model has the fields client_photo_id, sha256, mime, size and original_key, and a
    unique (record, client_photo_id).
    """

    model: type[Row]
    record_field: str
    cap: int
    cap_message: str

    def _of(self, record: Model) -> dict[str, Any]:
        return {self.record_field: record}

    async def _find(
        self, record: Model, client_photo_id: uuid.UUID, digest: str
    ) -> tuple[Row | None, bool]:
        """The row of this client_photo_id and whether it holds the same bytes."""
        row: Any = await self.model.filter(
            **self._of(record), client_photo_id=client_photo_id
        ).first()
        return cast(Row | None, row), row is not None and row.sha256 == digest

    async def add(
        self,
        *,
        record: Model,
        client_photo_id: uuid.UUID,
        data: bytes,
        mime: str,
        key_for: Callable[[uuid.UUID], str],
        put_original: PutOriginal,
        audit: Callable[[uuid.UUID, BaseDBAsyncClient], Awaitable[object]],
    ) -> tuple[Row, bool]:
        """Keep an upload's original and its row; a retry answers the first (created False).

        key_for gives the object key of the original from the new row's id; audit records the
        upload in the row's transaction (given the row's id and the connection).
        """
        digest = hashlib.sha256(data).hexdigest()
        existing, same = await self._find(record, client_photo_id, digest)
        if existing is not None:
            if not same:
                raise Conflict(REUSED_MESSAGE, type_slug="photo-id-reused")
            return existing, False
        if await self.model.filter(**self._of(record)).count() >= self.cap:
            raise Conflict(self.cap_message, type_slug="too-many-photos")
        row_id = uuid.uuid4()
        key = key_for(row_id)
        # The object first: a row never points at bytes that are not there. An orphan object
        # from a failed insert is harmless (private, and overwritten by nothing).
        await put_original(key, data, mime)
        try:
            async with in_transaction() as conn:
                # Counted again under the record's lock: parallel uploads share the cap.
                await type(record).filter(pk=record.pk).select_for_update().using_db(conn).first()
                if await self.model.filter(**self._of(record)).using_db(conn).count() >= self.cap:
                    raise Conflict(self.cap_message, type_slug="too-many-photos")
                row = await self.model.create(
                    id=row_id,
                    **self._of(record),
                    client_photo_id=client_photo_id,
                    sha256=digest,
                    mime=mime,
                    size=len(data),
                    original_key=key,
                    using_db=conn,
                )
                await audit(row_id, conn)
        except IntegrityError:
            existing, same = await self._find(record, client_photo_id, digest)
            if existing is None or not same:
                raise Conflict(RACE_MESSAGE, type_slug="photo-id-reused") from None
            return existing, False
        return row, True
