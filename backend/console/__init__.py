"""The township window console: server-rendered pages (Jinja2 + htmx) for clerks."""

from __future__ import annotations

from backend.console.views import group

__all__ = ["group"]
