"""Writing ORM objects with plain INSERT and UPDATE statements instead of the unit of work.

A flush sorts and batches whatever the session holds; for the few rows a hot path writes on every
request (an instance and its task rows) that bookkeeping costs more than the statements themselves.
These helpers write known objects at once and leave them in the session as if loaded from the
database, so the objects stay usable and the next flush has nothing left to do for them; objects
inserted this way leave the session when its transaction rolls back, as flushed ones do.
Relationships are not followed: write related rows yourself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import event, insert, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

_INSERTED_KEY = "oaflow.inserted_now"


def _column_value(obj: Any, prop: Any) -> Any:
    """The value `obj` holds for a column attribute, or its column's Python default, set on `obj`."""
    if prop.key in obj.__dict__:
        return obj.__dict__[prop.key]
    default = prop.columns[0].default
    if default is None or not (default.is_scalar or default.is_callable):
        value = None
    else:
        value = default.arg(None) if default.is_callable else default.arg
    setattr(obj, prop.key, value)
    return value


def insert_now(session: Session, objects: Sequence[Any]) -> None:
    """INSERT transient objects of one class (one statement; one per object when the database must
    generate their primary key), then attach them to `session` as persistent, unchanged objects.

    Unset columns take their Python defaults; a versioned mapper's version starts at 1.
    """
    if not objects:
        return
    mapper = sa_inspect(type(objects[0])).mapper
    table = mapper.local_table
    version = mapper.version_id_col
    rows = []
    for obj in objects:
        if version is not None and getattr(obj, mapper.get_property_by_column(version).key, None) is None:
            setattr(obj, mapper.get_property_by_column(version).key, 1)
        rows.append({prop.columns[0].key: _column_value(obj, prop) for prop in mapper.column_attrs})
    generated = [col for col in mapper.primary_key if any(row[col.key] is None for row in rows)]
    if generated:
        for obj, row in zip(objects, rows, strict=True):
            values = {k: v for k, v in row.items() if v is not None or k not in {c.key for c in generated}}
            keys = session.execute(insert(table).values(values)).inserted_primary_key
            for col, key in zip(mapper.primary_key, keys, strict=True):
                setattr(obj, mapper.get_property_by_column(col).key, key)
    else:
        session.execute(insert(table), rows)
    for obj in objects:
        make_transient_to_detached(obj)
        session.add(obj)
    session.info.setdefault(_INSERTED_KEY, []).extend(objects)


def update_now(session: Session, obj: Any) -> bool:
    """UPDATE the changed columns of a persistent object by primary key, then mark them saved.

    A versioned object is written only if its version is still the one read, and its version goes
    up by one, as a flush would do (StaleDataError otherwise). Returns whether anything was written.
    """
    state = sa_inspect(obj)
    if not state.persistent:
        return False
    mapper = state.mapper
    columns = _columns(mapper)
    changed = [key for key in state.committed_state if key in columns]  # attributes set since loaded
    if not changed:
        return False
    table = mapper.local_table
    values = {columns[key].key: state.dict[key] for key in changed}
    stmt = update(table).where(*[col == value for col, value in zip(mapper.primary_key, state.identity,
                                                                         strict=True)])
    version = mapper.version_id_col
    if version is not None:
        version_key = mapper.get_property_by_column(version).key
        read = state.dict[version_key]
        stmt = stmt.where(version == read)
        values[version.key] = read + 1
        changed.append(version_key)
        state.dict[version_key] = read + 1
    with session.no_autoflush:
        result = session.execute(stmt.values(values))
    if result.rowcount != 1:
        if version is not None:
            state.dict[version_key] = read
        raise StaleDataError(f"{table.name} {state.identity} was changed or deleted by someone else")
    for key in changed:
        set_committed_value(obj, key, state.dict[key])
    if not state.committed_state:
        state._commit_all(state.dict, session.identity_map)  # clean: no flush will look at it again
    return True


def _columns(mapper: Any) -> dict[str, Any]:
    """Attribute key -> column of a mapper's plain column attributes (computed once per mapper)."""
    found = _COLUMNS.get(mapper)
    if found is None:
        found = _COLUMNS[mapper] = {prop.key: prop.columns[0] for prop in mapper.column_attrs}
    return found


_COLUMNS: dict[Any, dict[str, Any]] = {}


@event.listens_for(Session, "after_soft_rollback")
def _forget_inserted(session: Session, previous_transaction: Any) -> None:
    """Rows inserted in a transaction that rolled back are gone: so are their objects (as after a flush)."""
    if previous_transaction.parent is None:
        for obj in session.info.pop(_INSERTED_KEY, []):
            if obj in session:
                session.expunge(obj)


@event.listens_for(Session, "after_commit")
def _keep_inserted(session: Session) -> None:
    session.info.pop(_INSERTED_KEY, None)
