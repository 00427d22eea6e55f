"""Compare the database's Alembic revision with the migrations on disk."""

from __future__ import annotations

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine


def migration_state(engine: Engine, migrations_dir: str) -> dict:
    """{current, head, up_to_date} for the database behind `engine`."""
    config = Config()
    config.set_main_option("script_location", migrations_dir)
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return {"current": current, "head": head, "up_to_date": current == head}
