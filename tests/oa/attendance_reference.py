"""The attendance month as it was counted before issue #19: every person-day walked in Python.

Kept only as the reference the SQL counting (oa.attendance_month) is compared against on the same fixtures;
the application does not use it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from oa.attendance import Shift, UserMonth, has_shift, record_flags, rule_for, to_local
from oa.holidays import exceptions_between
from oa.models import User
from oa.record_models import AttendanceRecord, LeaveRecord
from oa.workdays import is_workday
from store.base import utcnow


def summarise_month_by_day(session: Session, users: list[User], first: date, last: date,
                    now: datetime | None = None) -> list[UserMonth]:
    """Count present/late/early/absent/leave days per user between first and last (inclusive).

    A work day is a working day of the company calendar for the user's shift rule (oa.workdays.is_workday:
    the rule's week, minus holidays, plus make-up days), on or after their start date; a user without a shift
    has none. The calendar is read here, once for the period, so no caller can forget it."""
    now = now or utcnow()
    names = [u.username for u in users]
    exceptions = exceptions_between(session, first, last)
    records: dict[str, dict[date, list[AttendanceRecord]]] = defaultdict(lambda: defaultdict(list))
    for rec in session.scalars(select(AttendanceRecord).where(
            AttendanceRecord.user.in_(names), AttendanceRecord.work_date >= first,
            AttendanceRecord.work_date <= last).order_by(AttendanceRecord.clock_in)):
        records[rec.user][rec.work_date].append(rec)
    leave: dict[str, dict[date, LeaveRecord]] = defaultdict(dict)
    for row in session.scalars(select(LeaveRecord).where(LeaveRecord.user.in_(names), LeaveRecord.date >= first,
                                                         LeaveRecord.date <= last)):
        leave[row.user][row.date] = row
    out = []
    for user in users:
        rule = rule_for(session, user)
        today = to_local(rule, now).date()
        month = UserMonth(user.username, user.display_name, user.department.name if user.department else None)
        works, hired = has_shift(user), user.start_date
        day = first
        while day <= last:
            is_work_day = (works and (hired is None or day >= hired)
                           and is_workday(day, rule.work_days or (), exceptions))
            month.work_days += is_work_day
            _count_day(session, month, rule, is_work_day, day < today, leave[user.username].get(day),
                       records[user.username].get(day, []))
            day += timedelta(days=1)
        out.append(month)
    return out


def _count_day(session: Session, month: UserMonth, rule: Shift, is_work_day: bool, past: bool,
               leave: LeaveRecord | None, shifts: list[AttendanceRecord]) -> None:
    """Add one day to the month: whole-day leave, else (half leave and) present/late/early or absent."""
    if leave is not None:
        month.leave[leave.leave_type] += 0.5 if leave.half else 1
        if not leave.half:
            return
    if shifts:
        month.present += 1
        if is_work_day:
            if leave is None or leave.half == "pm":  # a morning is worked: it can start late
                month.late += record_flags(session, shifts[0], rule, True)["late"]
            closed = [s for s in shifts if s.clock_out is not None]
            if (leave is None or leave.half == "am") and closed and len(closed) == len(shifts):
                month.early_leave += record_flags(session, closed[-1], rule, True)["early_leave"]
    elif is_work_day and past:
        month.absent += 0.5 if leave is not None else 1


