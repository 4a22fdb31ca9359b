"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from referral.models import metadata
from referral.schema import downgrade, upgrade
from tests.conftest import fresh_engine


def test_upgrade_from_empty_matches_the_models(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    engine = fresh_engine(backend, "migration_check", tmp_path_factory)
    try:
        assert inspect(engine).get_table_names() == []
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert set(metadata.tables) <= tables
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []

        # The way back works too, and the way forward again after it.
        downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
