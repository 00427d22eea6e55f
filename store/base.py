"""The declarative base, naming conventions and small column helpers shared by all models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, MetaData, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.sql.dml import Insert

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON on every database, JSONB where PostgreSQL offers it.
JSONType = JSON().with_variant(JSONB(), "postgresql")
# The same, for optional columns: Python None is stored as SQL NULL (not the JSON text 'null').
OptionalJSONType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class Base(DeclarativeBase):
    """Base class of every oaflow model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Current time as a naive UTC datetime (what every timestamp column stores)."""
    return datetime.now(UTC).replace(tzinfo=None)


def insert_on_conflict(session: Session, table: Table, conflict: list[str], update: list[str] = ()) -> Insert:
    """INSERT into `table` that skips rows whose `conflict` columns already exist, or, with `update`,
    overwrites those columns of the existing row (ON CONFLICT on PostgreSQL and SQLite alike).

    One statement instead of a SELECT for what exists and an INSERT for what does not; add
    `.returning(...)` to learn which rows it wrote.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    if update:
        return stmt.on_conflict_do_update(index_elements=conflict,
                                          set_={name: stmt.excluded[name] for name in update})
    return stmt.on_conflict_do_nothing(index_elements=conflict)
