"""Alembic environment: the schema of every oaflow package, on the app's database (or OAFLOW_DATABASE_URL)."""

from __future__ import annotations

import logging
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

import crm.models  # noqa: F401  (register tables)
import engine.models  # noqa: F401
import oa.models  # noqa: F401
from store.base import Base

config = context.config
if config.config_file_name is not None and not logging.getLogger("oaflow").handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _engine():  # noqa: ANN202
    try:
        from flask import current_app
        return current_app.extensions["migrate"].db.engine
    except (RuntimeError, KeyError):
        from api.config import Settings
        url = config.get_main_option("sqlalchemy.url") or Settings().sqlalchemy_url()
        return create_engine(url, poolclass=pool.NullPool)


def run_migrations_offline() -> None:
    """Emit SQL without a connection."""
    context.configure(url=str(_engine().url), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_foreign_keys(connection, on: bool) -> None:  # noqa: ANN001
    """SQLite: a batch migration recreates a table (copy, drop, rename). With foreign keys enforced (the app's
    engine turns them on), dropping a table that other rows reference fails, so they are off while migrating, as
    Alembic advises. The PRAGMA is ignored inside a transaction: it goes to the raw connection before BEGIN."""
    if connection.dialect.name == "sqlite":
        connection.connection.dbapi_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def run_migrations_online() -> None:
    """Migrate over a live connection."""
    connectable = _engine()
    with connectable.connect() as connection:
        _sqlite_foreign_keys(connection, False)
        try:
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                              compare_type=True)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            _sqlite_foreign_keys(connection, True)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
