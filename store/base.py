"""The declarative base, naming conventions and small column helpers shared by all models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import JSON, MetaData, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session
from sqlalchemy.sql.dml import Insert

T = TypeVar("T")

# transaction_cache key of the org chart the engine and the OA operations share within one transaction
DIRECTORY_CACHE_KEY = "oaflow.directory"

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


def transaction_cache(session: Session, key: str, build: Callable[[], T]) -> T:
    """`build()` once per database transaction of `session`; rebuilt after a commit or rollback.

    For look-ups that many steps of one command repeat (the org chart) and that
    must not outlive the transaction that read them.
    """
    real = session() if isinstance(session, scoped_session) else session
    slot = real.info.get(key)
    current = real.get_transaction()
    if slot is not None and current is not None and slot[0] is current:
        return slot[1]
    value = build()
    real.info[key] = (real.get_transaction(), value)
    return value


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
