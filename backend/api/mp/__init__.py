"""The resident face: /mp/v1, the contract the WeChat mini-program is written against."""

from __future__ import annotations

from sanic import Blueprint

from backend.api.mp.auth import bp as auth_bp
from backend.api.mp.items import bp as items_bp
from backend.api.mp.places import bp as places_bp

group = Blueprint.group(auth_bp, items_bp, places_bp, url_prefix="/mp/v1")

__all__ = ["group"]
