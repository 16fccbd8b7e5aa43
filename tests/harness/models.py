"""The application's Tortoise models, loaded without a connection being used."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tortoise import Tortoise
from tortoise.models import Model

from backend.db import MODEL_MODULES


@pytest.fixture
async def models() -> AsyncIterator[list[type[Model]]]:
    """Every model the app declares (Tortoise initialised against an unused URL)."""
    await Tortoise.init(
        db_url="asyncpg://postgres@127.0.0.1:5432/unused",
        modules={"models": MODEL_MODULES},
        _create_db=False,
    )
    try:
        yield list(Tortoise.apps.get_models_iterable())
    finally:
        await Tortoise.close_connections()
