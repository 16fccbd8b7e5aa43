"""Photo uploads as the phones send them: sniffed, capped, and their originals stored."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sanic import Request

from backend.errors import BadRequest, ValidationFailed
from backend.web.context import web_context
from storage.photos import PhotoRejected, UploadInfo, validate_upload


def accept_photo(data: bytes) -> UploadInfo:
    """Sniff and check an uploaded photo; 413 or 422 with the reason when it is refused."""
    try:
        return validate_upload(data)
    except PhotoRejected as exc:
        status = 413 if exc.code == "too-large" else 422
        raise BadRequest(
            exc.message, status=status, type_slug=f"photo-{exc.code}", title="照片无法接收"
        ) from None


def multipart_photo(request: Request) -> tuple[uuid.UUID, bytes]:
    """The one file and client_photo_id of a wx.uploadFile-style multipart upload."""
    if "multipart/form-data" not in (request.content_type or ""):
        raise BadRequest(
            "照片应以 multipart/form-data 上传（文件字段 file，另附 client_photo_id）",
            status=415,
            type_slug="unsupported-media-type",
            title="不支持的内容类型",
        )
    files = request.files.getlist("file") if request.files else []
    if len(files) != 1:
        raise ValidationFailed(
            "请在 file 字段中上传一张照片",
            errors=[{"field": "file", "message": "应为一个文件"}],
        )
    raw_id = request.form.get("client_photo_id", "") if request.form else ""
    try:
        client_photo_id = uuid.UUID(raw_id)
    except ValueError:
        raise ValidationFailed(
            "client_photo_id 格式不正确（应为 UUID）",
            errors=[{"field": "client_photo_id", "message": "应为 UUID"}],
        ) from None
    return client_photo_id, files[0].body or b""


def original_putter(request: Request) -> Callable[[str, bytes, str], Awaitable[None]]:
    """How a service stores an upload's private original in this app's object store."""
    store = web_context(request).store

    async def put_original(key: str, payload: bytes, mime: str) -> None:
        await store.put(key, payload, content_type=mime)

    return put_original
