"""Yimen (一门通): the core of the township social-assistance intake backend."""
