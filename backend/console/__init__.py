"""The township window console: server-rendered pages (Jinja2 + htmx) for clerks."""
