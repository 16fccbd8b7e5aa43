"""The staff JSON face: sign-in, divisions, windows, the audit trail, and health."""

from __future__ import annotations

from sanic import Blueprint

from backend.staff.accounts import bp as accounts_bp
from backend.staff.geo import bp as geo_bp
from backend.staff.health import bp as health_bp
from backend.staff.integrity import bp as integrity_bp
from backend.staff.windows import bp as windows_bp

group = Blueprint.group(health_bp, accounts_bp, geo_bp, windows_bp, integrity_bp)

__all__ = ["group"]
