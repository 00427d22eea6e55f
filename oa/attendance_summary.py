"""A summary of attendance months per person, so a month's report reads ~1,000 rows instead of grouping ~21k
person-days (issue #19).

- `attendance_month_summary` holds one person's counted days of a month, from its first day `through` a day that
  is over in every timezone (oa.attendance_month.MonthCounts), together with what the count depended on of the
  person: department (hence shift rule), start date and whether they work shifts, and the company time zone
  (OAFLOW_TIMEZONE, which a `company` shift rule follows). A row whose inputs differ from the person's, or the
  zone from the company's, now is ignored. A closed month's rows run through its last day; the open month's through the
  last day over everywhere (two days before today in UTC) when the scheduler last ran, and the report counts
  the days after it live and adds them (the counts of a month are sums over its days, so the result is the
  same as counting the whole month live).
- Every write that changes a summarised day marks its month in `attendance_month_dirty` **in the write's own
  transaction** (an ORM flush event; UPDATE/DELETE statements through a session too): a clock record or a leave
  day marks (person, month); a holiday or make-up day marks (everyone, month); a shift rule or a department marks
  (everyone, every month). A summary row with a mark over it is never read: the report counts those people live,
  so its figures are exact at every moment, not "as of" a refresh. A write on a day no row can cover for another day
  at least (today in UTC or later: today's clock-ins, future leave) marks nothing, so the open month's rows
  survive a working day's clock-ins; the day of margin keeps a write whose transaction spans midnight from
  reaching a row unmarked.
- The scheduler (`refresh`) consumes the marks: it deletes them, drops the summary rows they cover, then counts
  the missing or outdated rows of this month and the last closed ones and stores them (each open-month row is
  extended by counting only the days since its `through`). The marks are deleted before the counting reads the
  records, so a write committed meanwhile either is seen by the counting or leaves its mark behind. Each batch is
  counted in a read and written in a short transaction of its own (SQLite's writers wait for no counting).

A month is closed once its last day is over in every timezone (two days past it in UTC): only then do its
counts no longer depend on today.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, DateTime, Float, Integer, String, and_, delete, event, inspect, select, tuple_
from sqlalchemy.orm import Mapped, Session, mapped_column

from oa.attendance_marks import EVERY_MONTH, EVERYONE, AttendanceMonthDirty, mark, month_of
from oa.attendance_month import MonthCounts
from oa.attendance_people import Someone, among, members
from oa.models import Department
from oa.record_models import AttendanceRecord, Holiday, LeaveRecord, ShiftRule
from store.base import Base, JSONType, insert_on_conflict, utcnow
from store.clock import company_timezone

REFRESH_MONTHS = 13  # closed months the scheduler keeps counted
REFRESH_BATCH = 2000  # people counted per statement group when filling


class AttendanceMonthSummary(Base):
    """One person's counted closed month and the inputs it was counted with."""

    __tablename__ = "attendance_month_summary"

    user: Mapped[str] = mapped_column(String(100), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    department_id: Mapped[int | None] = mapped_column(Integer)
    start_date: Mapped[date | None] = mapped_column(Date)
    works: Mapped[int] = mapped_column(Integer, nullable=False)
    work_days: Mapped[int] = mapped_column(Integer, nullable=False)
    present: Mapped[int] = mapped_column(Integer, nullable=False)
    late: Mapped[int] = mapped_column(Integer, nullable=False)
    early_leave: Mapped[int] = mapped_column(Integer, nullable=False)
    absent: Mapped[float] = mapped_column(Float, nullable=False)
    leave: Mapped[dict] = mapped_column(JSONType, nullable=False)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    through: Mapped[date | None] = mapped_column(Date)  # the last day counted (NULL: never read)
    zone: Mapped[str | None] = mapped_column(String(64))  # the company time zone it was counted in


def is_closed(first: date, last: date, now: datetime) -> bool:
    """True if [first, last] is one whole month that is over in every timezone at `now`."""
    return first.day == 1 and month_of(last) == first and (last + timedelta(days=1)).month != last.month \
        and last <= covered_through(now)


def covered_through(now: datetime) -> date:
    """The last day that is over in every timezone at `now` (naive UTC): the last day a row may cover."""
    return now.date() - timedelta(days=2)


def summarised(first: date, last: date) -> bool:
    """True if [first, last] starts a month and stays in it: the ranges the summary rows can serve."""
    return first.day == 1 and month_of(last) == first


def add(stored: MonthCounts, live: MonthCounts) -> MonthCounts:
    """The counts of a stored range followed by those of the live days after it (sharing `stored`'s leave
    when the live days have none)."""
    leave = stored.leave
    if live.leave:  # rare (leave on the live days): a new Counter only then
        leave = Counter(leave)
        leave.update(live.leave)
    return MonthCounts(work_days=stored.work_days + live.work_days, present=stored.present + live.present,
                       late=stored.late + live.late, early_leave=stored.early_leave + live.early_leave,
                       absent=stored.absent + live.absent, leave=leave)


def _inputs(user: Someone, works: bool) -> tuple[int | None, date | None, int]:
    return user.department_id, user.start_date, int(works)


def read(session: Session, users: list[tuple[Someone, bool]], first: date, last: date,
         now: datetime) -> dict[str, tuple[date, MonthCounts]]:
    """The stored counts (and the day they run through) of those of `users` (with whether each works shifts)
    that have a valid row for the month starting `first` covering no day after `last`: no mark over it, counted
    with the person's present inputs, through a day over everywhere at `now`."""
    marks = set(session.execute(select(AttendanceMonthDirty.user, AttendanceMonthDirty.month).where(
        AttendanceMonthDirty.month.in_((first, EVERY_MONTH)))))
    if any(u == EVERYONE for u, _m in marks) or not users:
        return {}
    marked = {u for u, _m in marks}
    wanted = {u.username: _inputs(u, works) for u, works in users if u.username not in marked}
    upto = min(last, covered_through(now))
    out: dict[str, tuple[date, MonthCounts]] = {}
    summary = AttendanceMonthSummary
    zone = company_timezone().key  # a row counted before OAFLOW_TIMEZONE changed judged lateness in another
    if upto < first or not wanted:
        return out
    # plain rows (~1,000 ORM objects would cost more than the report), of the people's departments past a few
    rows = session.execute(select(
        summary.user, summary.department_id, summary.start_date, summary.works, summary.through,
        summary.work_days, summary.present, summary.late, summary.early_leave, summary.absent, summary.leave,
        summary.zone).where(
        summary.month == first, summary.through.is_not(None), summary.through <= upto,
        summary.user.in_(among([u for u, _works in users if u.username in wanted]))))
    for name, dept, start, works, through, work_days, present, late, early, absent, leave, row_zone in rows:
        if (dept, start, works) != wanted.get(name) or row_zone != zone:
            continue
        out[name] = (through, MonthCounts(
            work_days=work_days, present=present, late=late, early_leave=early, absent=_number(absent),
            leave=Counter({k: _number(v) for k, v in leave.items()}) if leave else Counter()))
    return out


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def rows_of(first: date, through: date, counted: list[tuple[Someone, bool, MonthCounts]],
            now: datetime) -> list[dict[str, Any]]:
    """The summary rows of [first, through], as plain values (they outlive the session's objects)."""
    return [{"user": u.username, "month": first, "through": through, "department_id": u.department_id,
             "start_date": u.start_date,
             "works": int(works), "work_days": c.work_days, "present": c.present, "late": c.late,
             "early_leave": c.early_leave, "absent": float(c.absent),
             "leave": {k: float(v) for k, v in c.leave.items()}, "refreshed_at": now,
             "zone": company_timezone().key}
            for u, works, c in counted]


def store(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write (or overwrite) summary rows."""
    if not rows:
        return
    table = AttendanceMonthSummary.__table__
    update = [c for c in rows[0] if c not in ("user", "month")]
    for i in range(0, len(rows), 500):
        session.execute(insert_on_conflict(session, table, ["user", "month"], update), rows[i:i + 500])


Count = Callable[[Session, list[Someone], date, date, datetime], dict[str, MonthCounts]]


def refresh(session: Session, count: Count, works: Callable[[Someone], bool], now: datetime | None = None) -> int:
    """Consume the marks and count (with `count`; `works`: whether a person works shifts) the missing rows of
    the last closed months (the scheduler's job, through oa.attendance.refresh_summary); returns the number of
    rows written. Commits."""
    now = now or utcnow()
    marks = list(session.execute(select(AttendanceMonthDirty.user, AttendanceMonthDirty.month)))
    if marks:
        session.execute(delete(AttendanceMonthDirty).where(
            tuple_(AttendanceMonthDirty.user, AttendanceMonthDirty.month).in_(marks)))
        summary = AttendanceMonthSummary
        for user, month in marks:
            conds = []
            if user != EVERYONE:
                conds.append(summary.user == user)
            if month != EVERY_MONTH:
                conds.append(summary.month == month)
            session.execute(delete(summary).where(and_(*conds)) if conds else delete(summary))
    session.commit()  # the marks are consumed before anything is counted
    written = 0
    cutoff = covered_through(now)
    month = month_of(now.date())
    people = members(session)
    for back in range(REFRESH_MONTHS + 1):  # this month, then the closed ones before it
        if back:
            month = month_of(month - timedelta(days=1))
        through = min(month_of(month + timedelta(days=31)) - timedelta(days=1), cutoff)
        if through < month:
            continue
        have = set(session.scalars(select(AttendanceMonthSummary.user).where(
            AttendanceMonthSummary.month == month, AttendanceMonthSummary.through == through)))
        missing = [u for u in people if u.username not in have]
        for i in range(0, len(missing), REFRESH_BATCH):
            batch = missing[i:i + REFRESH_BATCH]
            counted = count(session, batch, month, through, now)  # an older row of a person: only the days since
            rows = rows_of(month, through, [(u, works(u), counted[u.username]) for u in batch], now)
            # the counting's read ends before the write begins, so SQLite's writers are never held up by it; a
            # write committed in between has left its mark, and a marked row is not read
            session.commit()
            store(session, rows)
            session.commit()
            written += len(rows)
    return written


@event.listens_for(Session, "after_flush")
def _track(session: Session, _ctx: Any) -> None:
    """Mark the months whose counts this flush changed."""
    marks: set[tuple[str, date]] = set()
    # a day after it is in no row for another day at least (rows reach two days before today): no mark needed
    cutoff = covered_through(utcnow()) + timedelta(days=1)
    changed = [o for o in session.dirty if session.is_modified(o, include_collections=False)]
    for obj in (*session.new, *changed, *session.deleted):
        if isinstance(obj, AttendanceRecord | LeaveRecord):
            day = obj.work_date if isinstance(obj, AttendanceRecord) else obj.date
            if obj.user and day and day <= cutoff:
                marks.add((obj.user, month_of(day)))
            marks.update((u, month_of(d)) for u, d in _old_values(obj) if d <= cutoff)
        elif isinstance(obj, Holiday) and obj.date:
            marks.update((EVERYONE, month_of(d)) for d in (obj.date, *_history(obj, "date")) if d <= cutoff)
        elif isinstance(obj, ShiftRule | Department):
            marks.add((EVERYONE, EVERY_MONTH))
    mark(session, marks)


def _history(obj: Any, attr: str) -> list[Any]:
    hist = inspect(obj).attrs[attr].history
    return [v for v in (hist.deleted or ()) if v is not None]


def _old_values(obj: Any) -> set[tuple[str, date]]:
    """(person, day) of the values an update replaced (a record moved to another day or person)."""
    attr = "work_date" if isinstance(obj, AttendanceRecord) else "date"
    users = _history(obj, "user") or [obj.user]
    days = _history(obj, attr) or [getattr(obj, attr)]
    return {(u, d) for u in users for d in days if u and d}


@event.listens_for(Session, "do_orm_execute")
def _track_statements(state: Any) -> Any:
    """UPDATE/DELETE statements through a session on the tables the counts read mark every month of
    everyone (rare: imports and admin fixes)."""
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return None
    if state.bind_mapper.class_ not in (AttendanceRecord, LeaveRecord, Holiday, ShiftRule, Department):
        return None
    result = state.invoke_statement()
    mark(state.session, {(EVERYONE, EVERY_MONTH)})
    return result

