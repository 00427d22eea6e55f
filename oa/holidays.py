"""The company calendar: dated exceptions to the working week (public holidays, make-up working days).

Admins keep it through `/api/v1/holidays`; `oaflow init` loads the shipped list (oa.holiday_data) once per
date, never overwriting what an admin changed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from oa import attendance_marks
from oa.record_models import Holiday
from store.base import insert_on_conflict
from store.errors import Conflict, InvalidData, NotFound

KINDS = ("holiday", "workday")
NAME_MAX = 100


def as_dict(row: Holiday) -> dict[str, Any]:
    """JSON-ready form of one calendar exception."""
    return {"id": row.id, "date": row.date.isoformat(), "kind": row.kind, "name": row.name}


def exceptions_between(session: Session, first: date, last: date) -> dict[date, str]:
    """date -> kind for every exception in [first, last]."""
    rows = session.execute(select(Holiday.date, Holiday.kind).where(Holiday.date >= first, Holiday.date <= last))
    return {day: kind for day, kind in rows}


def list_page(session: Session, first: date | None, last: date | None, page: int,
              per_page: int) -> tuple[list[Holiday], int]:
    """One page of exceptions in date order (optionally within [first, last]) and the total."""
    query = select(Holiday)
    if first is not None:
        query = query.where(Holiday.date >= first)
    if last is not None:
        query = query.where(Holiday.date <= last)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Holiday.date).offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def get(session: Session, holiday_id: int) -> Holiday:
    """One exception by id (404 if none)."""
    row = session.get(Holiday, holiday_id)
    if row is None:
        raise NotFound(f"no holiday {holiday_id}")
    return row


def _check(kind: Any, name: Any) -> tuple[str, str]:
    if kind not in KINDS:
        raise InvalidData("unknown kind", errors=[{"field": "kind", "message": f"one of {', '.join(KINDS)}"}])
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_MAX:
        raise InvalidData("a name is required", errors=[{"field": "name",
                                                         "message": f"1 to {NAME_MAX} characters"}])
    return kind, name.strip()


def _taken(session: Session, day: date, other_than: int | None = None) -> None:
    row = session.scalar(select(Holiday).where(Holiday.date == day))
    if row is not None and row.id != other_than:
        raise Conflict(f"{day.isoformat()} is already in the calendar (as {row.kind} {row.name!r})")


def _flush(session: Session, day: date) -> None:
    """Flush; a concurrent writer of the same date is a 409, not a 500."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as err:
        raise Conflict(f"{day.isoformat()} is already in the calendar") from err


def create(session: Session, day: date, kind: str, name: str) -> Holiday:
    """Add an exception (409 if the date already has one). Does not commit."""
    kind, name = _check(kind, name)
    _taken(session, day)
    row = Holiday(date=day, kind=kind, name=name)
    session.add(row)
    _flush(session, day)
    return row


def update(session: Session, holiday_id: int, changes: dict[str, Any]) -> Holiday:
    """Change an exception's date, kind or name. Does not commit."""
    row = get(session, holiday_id)
    kind, name = _check(changes.get("kind", row.kind), changes.get("name", row.name))
    if "date" in changes and changes["date"] != row.date:
        _taken(session, changes["date"], other_than=row.id)
        row.date = changes["date"]
    row.kind, row.name = kind, name
    _flush(session, row.date)
    return row


def delete(session: Session, holiday_id: int) -> None:
    """Remove an exception (the day follows the shift rule again). Does not commit."""
    session.delete(get(session, holiday_id))
    session.flush()


def load_shipped(session: Session) -> int:
    """Insert the shipped calendar's dates that are not in the table yet; how many rows it sent. No commit."""
    from oa.holiday_data import CHINA
    rows = [{"date": date.fromisoformat(day), "kind": kind, "name": name} for day, kind, name in CHINA]
    written = session.scalars(insert_on_conflict(session, Holiday.__table__, ["date"], []).returning(
        Holiday.date), rows).all()
    attendance_marks.mark(session, {(attendance_marks.EVERYONE, attendance_marks.month_of(d))
                                      for d in written})
    return len(rows)
