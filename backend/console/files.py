"""Files of the local object store, for the holder of a valid presigned link (/files)."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse, raw

from backend.console.pages import files_bp
from backend.context import app_context
from backend.errors import Forbidden, NotFound
from storage import ObjectNotFound
from storage.local import LocalStore


@files_bp.get("/files/<key:path>")
async def local_file(request: Request, key: str) -> HTTPResponse:
    """An object of the local store, for the holder of a valid presigned link."""
    store = app_context(request).store
    if not isinstance(store, LocalStore):
        raise NotFound("找不到该文件")
    expires = request.args.get("expires") or ""
    signature = request.args.get("signature") or ""
    if not store.verify_signed(key, expires, signature):
        raise Forbidden("链接无效或已过期，请回到页面重新打开", type_slug="link-expired")
    try:
        data = await store.get(key)
    except ObjectNotFound:
        raise NotFound("找不到该文件") from None
    info = await store.stat(key)
    content_type = info.content_type if info else "application/octet-stream"
    # Only images are shown inline; anything else downloads (and never runs as a page).
    inline = content_type.startswith("image/") and content_type != "image/svg+xml"
    return raw(
        data,
        content_type=content_type if inline else "application/octet-stream",
        headers={
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Content-Disposition": "inline" if inline else "attachment",
            "Referrer-Policy": "no-referrer",
        },
    )
