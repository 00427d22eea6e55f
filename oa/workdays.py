"""Working days on the company calendar: the shift rule's working week, public holidays and make-up days.

A day is a working day when the calendar marks it `workday` (调休, e.g. a Saturday), or it is on a weekday of
the working week and the calendar does not mark it `holiday`. Leave may start in the afternoon of its first
day (`start_half="pm"`) and end at noon on its last day (`end_half="am"`): those days count half.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from oa.holidays import exceptions_between
from store.errors import InvalidData

HALVES = ("am", "pm")
MAX_LEAVE_SPAN_DAYS = 366


@dataclass(frozen=True)
class LeaveDay:
    """A working day of leave: `half` is None for the whole day, else the half ("am"/"pm") taken."""

    date: date
    half: str | None = None

    @property
    def amount(self) -> float:
        """1 for a whole day, 0.5 for a half."""
        return 0.5 if self.half else 1.0


def is_workday(day: date, week: Iterable[int], exceptions: dict[date, str]) -> bool:
    """True if `day` is worked: a make-up day, or a day of the working week that is not a holiday."""
    kind = exceptions.get(day)
    if kind is not None:
        return kind == "workday"
    return day.weekday() in set(week)


def _half(value: object, field: str, default: str) -> str:
    if value is None:
        return default
    if value not in HALVES:
        raise InvalidData(f"{field} must be am or pm", errors=[{"field": field, "message": "one of am, pm"}])
    return str(value)


def leave_days(session: Session, week: Iterable[int], start: date, end: date, start_half: object = None,
               end_half: object = None) -> list[LeaveDay]:
    """The working days of a leave from `start` (its morning, or afternoon with start_half "pm") to `end`
    (its evening, or noon with end_half "am"). Raises InvalidData naming the field at fault."""
    first_half, last_half = _half(start_half, "start_half", "am"), _half(end_half, "end_half", "pm")
    if end < start:
        raise InvalidData("the leave ends before it starts",
                          errors=[{"field": "end_date", "message": "must not be before start_date"}])
    if (end - start).days >= MAX_LEAVE_SPAN_DAYS:
        raise InvalidData("the leave is too long",
                          errors=[{"field": "end_date", "message": f"at most {MAX_LEAVE_SPAN_DAYS} days"}])
    if end == start and first_half == "pm" and last_half == "am":
        raise InvalidData("the leave ends before it starts",
                          errors=[{"field": "end_half", "message": "a one-day leave starting pm must end pm"}])
    week = set(week)
    exceptions = exceptions_between(session, start, end)
    days = []
    for n in range((end - start).days + 1):
        day = start + timedelta(days=n)
        if not is_workday(day, week, exceptions):
            continue
        morning = day > start or first_half == "am"
        afternoon = day < end or last_half == "pm"
        days.append(LeaveDay(day, None if morning and afternoon else ("am" if morning else "pm")))
    return days


def total(days: Iterable[LeaveDay]) -> float:
    """Working days in a list of leave days (halves count 0.5)."""
    return float(sum(d.amount for d in days))


def slots(start: date, end: date, start_half: object = None, end_half: object = None) -> tuple[int, int]:
    """A leave as a closed range of half-day slots (two per date), for overlap tests."""
    first = start.toordinal() * 2 + (1 if start_half == "pm" else 0)
    last = end.toordinal() * 2 + (0 if end_half == "am" else 1)
    return first, last
