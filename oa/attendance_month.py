"""The monthly attendance counts of many people, computed in the database (issue #19).

The rules are those of `oa.attendance` (see its docstring); this module only counts them with SQL instead of
walking every person-day in Python:

- The company calendar is read once for the month and, per shift rule, turned into the month's work days and,
  for each work day, the UTC moments that matter: the start of the local day, the start of the next, the
  latest on-time clock-in (start + grace) and the end of the shift. A rule's timezone is applied here, in
  Python, once a day per rule (31 values), never per person.
- One statement per rule groups the clock records by person and day (the (user, work_date) index) and then
  by person, counting present, late and early-leave days with CASE expressions against those moments; one
  more groups the leave records by person and type (the (user, date) unique index), counting the leave days
  and the work days covered by leave without a clock-in, from which absences follow by arithmetic.
- A shift whose first clock-in or last clock-out falls on another local day than its work date (a night
  shift, a clock-out forgotten until the next day) cannot be judged by one day's moments: those few days
  are read and judged in Python exactly as before.

Two assumptions, both held by clock_in/clock_out: a person's shifts do not overlap (one open shift at a time,
a clock-out never before its clock-in), so a day's latest clock-out is that of its last shift; and a shift
rule's start or end is not inside a daylight-saving jump (2-3 am on two nights a year).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, and_, case, exists, false, func, literal, or_, select, true
from sqlalchemy.orm import Session

from oa.attendance_people import Someone, among
from oa.models import User
from oa.record_models import AttendanceRecord, LeaveRecord
from oa.workdays import is_workday
from store.clock import company_timezone


class Shift(Protocol):
    """What is read of a shift rule (oa.attendance.Shift)."""

    start_time: time
    end_time: time
    grace_minutes: int
    work_days: tuple[int, ...]
    timezone: str


@dataclass
class MonthCounts:
    """One person's counted month (`work_days` from the calendar, the rest from SQL)."""

    work_days: int = 0
    present: int = 0
    late: int = 0
    early_leave: int = 0
    absent: float = 0
    leave: Counter = field(default_factory=Counter)


@dataclass(frozen=True)
class RuleMonth:
    """A shift rule's month: its work days and, per work day, the UTC moments its counts compare against."""

    today: date
    work_days: list[date]
    day_start: dict[date, datetime]
    next_start: dict[date, datetime]
    late_after: dict[date, datetime]
    end_at: dict[date, datetime]

    def between(self, lo: date, hi: date) -> RuleMonth:
        """The same month with only the work days in [lo, hi] (and their moments)."""
        def keep(moments: dict[date, datetime]) -> dict[date, datetime]:
            return {d: m for d, m in moments.items() if lo <= d <= hi}
        return RuleMonth(self.today, [d for d in self.work_days if lo <= d <= hi], keep(self.day_start),
                         keep(self.next_start), keep(self.late_after), keep(self.end_at))


COMPANY = "company"  # a shift rule's timezone: the company's (store.clock)


def rule_zone(rule: Shift) -> ZoneInfo:
    """The time zone of a shift rule: its own, or the company's for `company` (an unknown name reads as UTC).
    The one reading of a rule's zone: the per-record flags and the month's counts must judge alike."""
    if not rule.timezone or rule.timezone == COMPANY:
        return company_timezone()
    try:
        return ZoneInfo(rule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def rule_month(rule: Shift, first: date, last: date, exceptions: dict[date, str], now: datetime) -> RuleMonth:
    """The work days of `rule` in [first, last] by the company calendar and their moments in naive UTC."""
    zone = rule_zone(rule)

    def utc(day: date, at: time) -> datetime:
        return datetime.combine(day, at, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)

    late_at = (datetime.combine(first, rule.start_time) + timedelta(minutes=rule.grace_minutes or 0)).time()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    work = [d for d in days if is_workday(d, rule.work_days or (), exceptions)]
    return RuleMonth(today=now.replace(tzinfo=UTC).astimezone(zone).date(), work_days=work,
                     day_start={d: utc(d, time()) for d in work},
                     next_start={d: utc(d + timedelta(days=1), time()) for d in work},
                     late_after={d: utc(d, late_at) for d in work},
                     end_at={d: utc(d, rule.end_time) for d in work})


def _by_day(column: Any, values: dict[date, datetime]) -> Any:
    """CASE column WHEN day THEN moment ... END (NULL for other days)."""
    return case(values, value=column) if values else None


def count_month(session: Session, rule: Shift, works: bool, users: list[Someone], first: date, last: date,
                exceptions: dict[date, str], now: datetime) -> dict[str, MonthCounts]:
    """The counts of `users` (all on `rule`; `works`: whether they have a shift at all) for [first, last]."""
    cal = rule_month(rule, first, last, exceptions, now)
    out = {u.username: _calendar_counts(cal, works, u.start_date) for u in users}
    if not users:
        return out
    who = among(users)  # a superset past a few people: rows of others are skipped
    # clocking in dates a record today, so a range reaching past today (the open month's live days) binds the
    # moments up to today only (~250 bound values for the rest of a month cost more than the query); a record
    # dated later (an import, a test) shows in the first pass, which is then run again with every day's
    rows = _clocked(session, works, who, first, last, cal.between(first, cal.today), cal.today) \
        if last > cal.today else None
    if rows is None:
        rows = _clocked(session, works, who, first, last, cal, None) or []
    odd: list[str] = []
    for name, present, late, early, shifts_past, odd_days, _later in rows:
        counts = out.get(name)
        if counts is None:
            continue
        counts.present, counts.late, counts.early_leave = int(present), int(late), int(early)
        counts.absent -= int(shifts_past)
        if odd_days:
            odd.append(name)
    if odd:
        _judge_other_days(session, rule, out, odd, first, last, cal)
    _count_leave(session, out, who, first, last, cal, works)
    return out


def _clocked(session: Session, works: bool, who: list[str] | Select, first: date, last: date, cal: RuleMonth,
             upto: date | None) -> list[Any] | None:
    """Per person: present, late and early-leave days, shifts on past work days, days to judge in Python, from
    the clock records in [first, last] (`cal`: the rule's work days and their moments). With `upto`, `cal` holds
    only the days up to it: None if a record is dated after it."""
    day = _days(who, first, last)
    leave = LeaveRecord
    work, one_day = _work_day(day, cal, works)
    morning = or_(leave.id.is_(None), leave.half == "pm")  # a morning worked: it can start late
    evening = or_(leave.id.is_(None), leave.half == "am")  # an evening worked: it can end early
    counted = or_(leave.id.is_(None), leave.half.is_not(None))  # not a whole day of leave
    late_q = (and_(work, one_day, morning, day.c.first_in > _by_day(day.c.d, cal.late_after))
              if works and cal.work_days else false())
    early_q = (and_(work, one_day, evening, day.c.closed == day.c.n,
                    day.c.last_out < _by_day(day.c.d, cal.end_at)) if works and cal.work_days else false())

    def total(cond: Any) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    odd_q = and_(work, ~one_day) if works and cal.work_days else false()
    joined = (select(day.c.user, total(counted), total(late_q), total(early_q), total(and_(work, day.c.d < cal.today)),
                     total(odd_q), total(day.c.d > upto) if upto else literal(0))
              .select_from(day.join(User.__table__, User.username == day.c.user)
                           .outerjoin(leave.__table__, and_(leave.user == day.c.user, leave.date == day.c.d)))
              .group_by(day.c.user))
    rows = list(session.execute(joined))
    return None if upto and any(row[-1] for row in rows) else rows


def _work_day(day: Any, cal: RuleMonth, works: bool) -> tuple[Any, Any]:
    """SQL conditions on a grouped day: a work day of the person (by the calendar, from the start date), and
    one whose first clock-in and last clock-out are on that local day (judged by the day's moments)."""
    if not (works and cal.work_days):
        return false(), true()
    work = and_(day.c.d.in_(cal.work_days), or_(User.start_date.is_(None), day.c.d >= User.start_date))
    one_day = and_(day.c.first_in >= _by_day(day.c.d, cal.day_start),
                   day.c.first_in < _by_day(day.c.d, cal.next_start),
                   or_(day.c.last_out.is_(None), day.c.last_out < _by_day(day.c.d, cal.next_start)))
    return work, one_day


def _days(names: list[str] | Select, first: date, last: date) -> Any:
    """The clock records of these people (names, or a statement selecting them) in [first, last] grouped by
    person and day (the (user, work_date) index): shifts, closed shifts, first clock-in, last clock-out."""
    rec = AttendanceRecord
    return (select(rec.user.label("user"), rec.work_date.label("d"), func.count().label("n"),
                   func.count(rec.clock_out).label("closed"), func.min(rec.clock_in).label("first_in"),
                   func.max(rec.clock_out).label("last_out"))
            .where(rec.user.in_(names), rec.work_date >= first, rec.work_date <= last)
            .group_by(rec.user, rec.work_date).subquery())


def _calendar_counts(cal: RuleMonth, works: bool, hired: date | None) -> MonthCounts:
    """Work days from the start date on, and the past ones as absences until shifts and leave cover them."""
    if not works:
        return MonthCounts()
    days = cal.work_days[bisect_left(cal.work_days, hired):] if hired else cal.work_days
    return MonthCounts(work_days=len(days), absent=bisect_left(days, cal.today))


def _judge_other_days(session: Session, rule: Shift, out: dict[str, MonthCounts], names: list[str], first: date,
                      last: date, cal: RuleMonth) -> None:
    """Late and early leave on the work days whose shifts reach into another local day, judged in Python."""
    zone = rule_zone(rule)
    late_at = (datetime.combine(date.min, rule.start_time) + timedelta(minutes=rule.grace_minutes or 0)).time()
    day, leave = _days(names, first, last), LeaveRecord
    work, one_day = _work_day(day, cal, True)
    rows = session.execute(
        select(day.c.user, day.c.n, day.c.closed, day.c.first_in, day.c.last_out, leave.id, leave.half)
        .select_from(day.join(User.__table__, User.username == day.c.user)
                     .outerjoin(leave.__table__, and_(leave.user == day.c.user, leave.date == day.c.d)))
        .where(work, ~one_day))
    for name, n, closed, first_in, last_out, leave_id, half in rows:
        if leave_id is not None and half is None:
            continue
        local = first_in.replace(tzinfo=UTC).astimezone(zone)
        if (leave_id is None or half == "pm") and local.time() > late_at:
            out[name].late += 1
        if ((leave_id is None or half == "am") and closed == n and last_out is not None
                and last_out.replace(tzinfo=UTC).astimezone(zone).time() < rule.end_time):
            out[name].early_leave += 1


def _count_leave(session: Session, out: dict[str, MonthCounts], names: list[str] | Select, first: date,
                 last: date, cal: RuleMonth, works: bool) -> None:
    """Leave days per type; past work days on leave without a clock-in: none absent (whole), half (half).
    `names`: the people of `out` (or a statement selecting a superset of them: the others are skipped)."""
    leave = LeaveRecord
    hired = or_(User.start_date.is_(None), leave.date >= User.start_date)
    rec = AttendanceRecord
    clocked = exists().where(rec.user == leave.user, rec.work_date == leave.date)
    past = [d for d in cal.work_days if d < cal.today]  # (the days to come are bound for nothing)
    bare = and_(leave.date.in_(past), hired, ~clocked) if works and past else false()

    def total(cond: Any) -> Any:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    rows = session.execute(
        select(leave.user, leave.leave_type, total(leave.half.is_(None)), total(leave.half.is_not(None)),
               total(and_(bare, leave.half.is_(None))), total(and_(bare, leave.half.is_not(None))))
        .select_from(leave.__table__.join(User.__table__, User.username == leave.user))
        .where(leave.user.in_(names), leave.date >= first, leave.date <= last)
        .group_by(leave.user, leave.leave_type))
    for name, leave_type, whole, halves, whole_bare, half_bare in rows:
        counts = out.get(name)
        if counts is None:
            continue
        counts.leave[leave_type] += int(whole) + 0.5 * int(halves) if halves else int(whole)
        counts.absent -= int(whole_bare) + 0.5 * int(half_bare)
