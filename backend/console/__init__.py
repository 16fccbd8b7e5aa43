"""The township window console: server-rendered pages (Jinja2 + htmx) for clerks.

One room per part of the work, all on the blueprints of console.pages: auth (sign in and
out), home (the front page), leads (the queue, a lead and its actions), applications, window
(the window's posted information) and files (the local store's presigned links).
"""

from __future__ import annotations

from sanic import Blueprint

# Each room registers its routes on the shared blueprints when imported.
from backend.console import applications, auth, files, home, leads, window  # noqa: F401
from backend.console.pages import bp, files_bp

group = Blueprint.group(bp, files_bp)

__all__ = ["group"]
