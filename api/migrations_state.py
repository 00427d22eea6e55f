"""Compare the database's Alembic revision(s) with the migrations on disk."""

from __future__ import annotations

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine


def migration_state(engine: Engine, migrations_dir: str) -> dict:
    """{current, head, up_to_date} for the database behind `engine` (revisions joined by ',')."""
    config = Config()
    config.set_main_option("script_location", migrations_dir)
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return {"current": ",".join(sorted(current)) or None, "head": ",".join(sorted(heads)),
            "up_to_date": current == heads}
