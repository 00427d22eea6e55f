"""The migrations build the whole schema from an empty database, and the models agree with them
(no drift: what `alembic check` verifies), on the database the suite runs on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

import crm.models  # noqa: F401  (every table, as migrations/env.py registers them)
import engine.models  # noqa: F401
import oa.models  # noqa: F401
from api.config import ROOT
from store.base import Base
from tests.conftest import PG_URL, pg_database


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """URL of a brand-new empty database (a file on SQLite, a new database on PostgreSQL)."""
    if PG_URL:
        with pg_database(f"oaflow_mig_{uuid.uuid4().hex[:8]}") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'empty.db'}"


def _config(url: str) -> Config:
    config = Config(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _diff(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_upgrade_from_empty_has_no_drift(empty_database: str) -> None:
    config = _config(empty_database)
    command.upgrade(config, "heads")
    heads = set(ScriptDirectory.from_config(config).get_heads())
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        assert set(MigrationContext.configure(conn).get_current_heads()) == heads
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables
    diff = _diff(empty_database)
    assert diff == [], "models and migrations disagree:\n" + "\n".join(map(repr, diff))
    if len(heads) == 1:  # `alembic check` itself needs a single head
        command.check(config)


def test_every_migration_has_one_parent_chain_to_the_core() -> None:
    script = ScriptDirectory.from_config(_config("sqlite://"))
    bases = script.get_bases()
    assert bases == ["c62c40695332"], bases
    for rev in script.walk_revisions():
        assert rev.down_revision is not None or rev.revision == "c62c40695332", rev.revision
