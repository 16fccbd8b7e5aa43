"""The grid-worker face: /mobile/v1, a contract phone apps are written against."""

from __future__ import annotations

from sanic import Blueprint

from mobile_api.auth import bp as auth_bp
from mobile_api.reports import bp as reports_bp
from mobile_api.visits import bp as visits_bp

group = Blueprint.group(auth_bp, reports_bp, visits_bp, url_prefix="/mobile/v1")

__all__ = ["group"]
