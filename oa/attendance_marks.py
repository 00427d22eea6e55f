"""The marks of attendance months whose summary (oa.attendance_summary) must not be read, written in the same
transaction as the write that changes the month. Kept apart so the writers (clock records, leave, the company
calendar) can mark without importing the counting."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.base import Base, insert_on_conflict

EVERYONE = "*"  # a mark for all people
EVERY_MONTH = date(1, 1, 1)  # a mark for all months


class AttendanceMonthDirty(Base):
    """A month whose summary rows must not be read ('*' for everyone, 0001-01-01 for every month)."""

    __tablename__ = "attendance_month_dirty"

    user: Mapped[str] = mapped_column(String(100), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)


def month_of(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def mark(session: Session, marks: set[tuple[str, date]]) -> None:
    """Mark (person or '*', month or 0001-01-01) in the session's transaction (Core: safe in a flush event)."""
    if marks:
        session.connection().execute(
            insert_on_conflict(session, AttendanceMonthDirty.__table__, ["user", "month"]),
            [{"user": u, "month": m} for u, m in sorted(marks)])
