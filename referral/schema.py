"""Schema migrations with Alembic, callable from the CLI and the tests.

The revisions live in ``migrations/versions`` at the repository root. The database URL comes
from the application's configuration (or an open connection in tests), never from alembic.ini.
"""

from __future__ import annotations

import functools

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from referral.config import PROJECT_ROOT

MIGRATIONS_PATH = PROJECT_ROOT / "migrations"


def alembic_config(bind: Engine | Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_PATH))
    if bind is not None:
        config.attributes["connection"] = bind
    return config


def upgrade(bind: Engine | Connection, revision: str = "head") -> None:
    """Bring the schema of `bind` up to `revision` (head by default)."""
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    else:
        command.upgrade(alembic_config(bind), revision)


def downgrade(bind: Engine | Connection, revision: str) -> None:
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            command.downgrade(alembic_config(connection), revision)
    else:
        command.downgrade(alembic_config(bind), revision)


@functools.cache
def head_revisions() -> frozenset[str]:
    """The revisions this code expects, read from the migration files once per process."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> frozenset[str]:
    """The revisions the database is at (empty if it was never migrated)."""
    return frozenset(MigrationContext.configure(connection).get_current_heads())
