"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import re
import warnings

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import SAWarning

from referral.models import metadata
from referral.schema import downgrade, upgrade
from tests.conftest import fresh_engine


def expression_index_columns(connection: Connection, name: str) -> list[str]:
    """The terms of an index as the database wrote its definition, spaces and quotes removed."""
    if connection.dialect.name == "sqlite":
        sql = connection.scalar(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": name})
    else:
        sql = connection.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": name})
    assert sql is not None, f"index {name} missing"
    inside = sql[sql.index("(") + 1 : sql.rindex(")")]
    # PostgreSQL writes « lower((first_name)::text) », SQLite as it was given.
    terms = re.sub(r"[\s\"]|::text", "", inside).replace("((", "(").replace("))", ")").split(",")
    return terms


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
            with warnings.catch_warnings():
                # Reflection skips indexes on expressions (SQLite): checked below instead.
                warnings.filterwarnings("ignore", message=".*expression-based index", category=SAWarning)
                warnings.filterwarnings("ignore", message=".*expression-based index", category=UserWarning)
                assert compare_metadata(context, metadata) == []
            assert expression_index_columns(connection, "ix_participants_person") == [
                "lower(first_name)",
                "lower(last_name)",
                "birth_date",
            ]

        # The way back works too, and the way forward again after it.
        downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
