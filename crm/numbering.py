"""Gap-free, race-safe document numbers (`SO-2026-0001`): one counter row per series and year, bumped with an
UPDATE inside the caller's transaction. The row stays locked until that transaction ends, so two writers never
get the same number, and a step that rolls back gives its number back (no gaps)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm.models import NumberSequence
from crm.settings import get_setting
from store.base import insert_on_conflict
from store.clock import company_date

SERIES = {"order": "SO", "quote": "QT", "invoice": "INV"}


def next_number(session: Session, kind: str, today: date | None = None) -> str:
    """The next number of series `kind` (order, quote, invoice) for the year of `today`: PREFIX-YYYY-NNNN, the
    digits as the `number_digits` setting says."""
    year = (today or company_date()).year
    name = f"{SERIES[kind]}-{year}"
    session.execute(insert_on_conflict(session, NumberSequence.__table__, ["name"]), [{"name": name,
                                                                                       "last_value": 0}])
    value = session.execute(update(NumberSequence).where(NumberSequence.name == name)
                            .values(last_value=NumberSequence.last_value + 1)
                            .returning(NumberSequence.last_value)
                            .execution_options(synchronize_session=False)).scalar_one()
    return f"{name}-{value:0{get_setting(session, 'number_digits')}d}"


def last_number(session: Session, kind: str, year: int) -> int:
    """How many numbers of series `kind` were handed out in `year` (0 if none)."""
    return session.scalar(select(NumberSequence.last_value).where(
        NumberSequence.name == f"{SERIES[kind]}-{year}")) or 0
