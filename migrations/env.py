"""Alembic environment: migrate the connection handed over by `referral.schema`, or the URL of
``DATABASE_URL`` / the embedded SQLite database when `alembic` is run by hand."""

from __future__ import annotations

from alembic import context

from referral.config import default_database_url
from referral.db import make_engine
from referral.models import metadata

config = context.config


# Tables the application does not own: APScheduler's job store creates and migrates its own.
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def include_name(name, type_, _parent_names) -> bool:
    return not (type_ == "table" and name in FOREIGN_TABLES)


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_name=include_name,
        # SQLite alters tables by copying them; PostgreSQL does it in place.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = make_engine(default_database_url())
    with engine.begin() as connection:
        run_migrations(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported: run against a database.")
run()
