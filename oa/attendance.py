"""Attendance: clock-in/out on server time, shift rules, approved leave days, and the monthly report.

Times are stored as naive UTC; a shift rule's `timezone` decides the local work date and whether a clock-in
was late (`company`, the default, means the company time zone of store.clock, OAFLOW_TIMEZONE). A day counts
as (in this order): leave (approved leave recorded for it), present (clocked in; on a
work day also late if the first clock-in is after start + grace, early leave if the last clock-out is before
the end), or absent (a past work day with neither). Today and future days are never absent.
Only people with a shift (see `has_shift`: employees, not bare admin or integrator accounts) have work days, and
only from their start (hire) date, by the company calendar (oa.holidays, oa.workdays): a public holiday is
neither a work day nor an absence, a make-up day (调休) is a work day. Half a day of leave counts 0.5; the other
half of that day is worked (late only on an afternoon leave's morning, early leave only on a morning leave's
afternoon, half an absence without a clock-in).
"""

from __future__ import annotations

import calendar as _calendar
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from oa import attendance_marks, attendance_month, attendance_summary
from oa.attendance_month import MonthCounts, count_month
from oa.attendance_people import Someone, members
from oa.holidays import exceptions_between
from oa.models import Department, User
from oa.org import OrgDirectory, Person
from oa.record_models import AttendanceRecord, LeaveRecord, ShiftRule
from oa.workdays import LeaveDay, is_workday, leave_days
from store.base import insert_on_conflict, utcnow
from store.errors import Conflict, Forbidden, InvalidData, NotFound
from store.messages import Message
from store.readcache import ReadCache

MAX_LEAVE_SPAN_DAYS = 366
LEAVE_TYPE_MAX = 40
COMPANY = attendance_month.COMPANY  # a shift rule's timezone: the company's (store.clock)


# --------------------------------------------------------------------------- rules and time
@dataclass(frozen=True)
class Shift:
    """A shift rule as read (a snapshot, shared between requests: see SHIFT_RULES)."""

    id: int
    name: str
    start_time: time
    end_time: time
    grace_minutes: int
    work_days: tuple[int, ...]
    timezone: str
    department_id: int | None
    is_default: bool

    @classmethod
    def of(cls, rule: ShiftRule) -> Shift:
        """The snapshot of a rule row."""
        return cls(rule.id, rule.name, rule.start_time, rule.end_time, rule.grace_minutes or 0,
                   tuple(rule.work_days or ()), rule.timezone or COMPANY, rule.department_id, bool(rule.is_default))


# the shift rules as each worker last read them (a handful of rows every leave and clock-in asks for; see
# store.readcache): a change made through this worker applies at once, one made elsewhere within 2 s
SHIFT_RULES: ReadCache[tuple[Shift, ...]] = ReadCache("shift rules", 2.0, (ShiftRule,))


def rule_zone(rule: Shift) -> ZoneInfo:
    """The time zone of a shift rule: its own, or the company's for `company` (an unknown name reads as UTC)."""
    return attendance_month.rule_zone(rule)


def to_local(rule: Shift, moment: datetime) -> datetime:
    """A naive-UTC moment as local time of the rule's timezone."""
    return moment.replace(tzinfo=UTC).astimezone(rule_zone(rule))


def default_rule(session: Session) -> Shift:
    """The default shift rule (created by the migration; rebuilt here if someone deleted it)."""
    rule = session.scalar(select(ShiftRule).where(ShiftRule.is_default.is_(True)).order_by(ShiftRule.id))
    if rule is None:
        rule = ShiftRule(name="Standard office hours", start_time=time(9), end_time=time(18), grace_minutes=10,
                         work_days=[0, 1, 2, 3, 4], timezone=COMPANY, is_default=True)
        session.add(rule)
        session.flush()
    return Shift.of(rule)


def rule_for(session: Session, user: Someone | Person | None) -> Shift:
    """The shift rule of the user's department (or the nearest ancestor with one), else the default."""
    rules = SHIFT_RULES.get(session, "all", lambda: tuple(
        Shift.of(rule) for rule in session.scalars(select(ShiftRule).order_by(ShiftRule.id))))
    by_department: dict[int, Shift] = {}
    for rule in rules:
        if rule.department_id is not None:
            by_department.setdefault(rule.department_id, rule)
    dept = (session.get(Department, user.department_id)
            if user is not None and user.department_id is not None and by_department else None)
    seen: set[int] = set()
    while dept is not None and dept.id not in seen:
        seen.add(dept.id)
        if dept.id in by_department:
            return by_department[dept.id]
        dept = dept.parent
    default = next((r for r in rules if r.is_default), None)
    return default if default is not None else default_rule(session)


def _as_date(value: Any, field_name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise InvalidData(f"{field_name} is not a date", errors=[{"field": field_name, "message": "expected YYYY-MM-DD"}])


# --------------------------------------------------------------------------- clocking
def open_shift(session: Session, username: str) -> AttendanceRecord | None:
    """The user's open shift (clocked in, not out), if any."""
    return session.scalar(select(AttendanceRecord).where(AttendanceRecord.user == username,
                                                         AttendanceRecord.clock_out.is_(None)))


def clock_in(session: Session, username: str, now: datetime | None = None) -> AttendanceRecord:
    """Open a shift at server time; 409 if one is already open (also under concurrent clock-ins)."""
    if open_shift(session, username) is not None:
        raise Conflict(Message("you are already clocked in; clock out first"))
    now = now or utcnow()
    rule = rule_for(session, session.scalar(select(User).where(User.username == username)))
    row = AttendanceRecord(user=username, clock_in=now, work_date=to_local(rule, now).date())
    session.add(row)
    try:
        session.flush()
    except IntegrityError as err:  # the partial unique index: a concurrent clock-in won
        raise Conflict(Message("you are already clocked in; clock out first")) from err
    return row


def clock_out(session: Session, username: str, now: datetime | None = None) -> AttendanceRecord:
    """Close the user's open shift at server time; 409 if there is none."""
    row = open_shift(session, username)
    if row is None:
        raise Conflict(Message("you are not clocked in"))
    row.clock_out = max(now or utcnow(), row.clock_in)
    session.flush()
    return row


# --------------------------------------------------------------------------- leave
def record_leave(session: Session, username: str, start_date: Any, end_date: Any, leave_type: str,
                 instance_id: int | None = None, start_half: str | None = None,
                 end_half: str | None = None) -> list[date]:
    """Record approved leave as one LeaveRecord per working day of the company calendar in [start_date,
    end_date] (oa.workdays: the shift rule's week, no holidays, make-up days included), a half day when the
    leave starts pm or ends am; re-recording a day updates its type, half and instance. Returns the days."""
    user = OrgDirectory(session).person(username) if isinstance(username, str) else None
    if user is None:
        raise InvalidData(f"no user {username!r}", errors=[{"field": "user", "message": "unknown user"}])
    start, end = _as_date(start_date, "start_date"), _as_date(end_date, "end_date")
    if not isinstance(leave_type, str) or not leave_type.strip():
        raise InvalidData("a leave type is required", errors=[{"field": "leave_type", "message": "required"}])
    leave_type = leave_type.strip()[:LEAVE_TYPE_MAX]
    days = leave_days(session, rule_for(session, user).work_days or (), start, end, start_half, end_half)
    days = _merge_halves(session, user.username, days)
    if days:  # one statement: new days inserted, days already recorded take the new type, half and instance
        session.execute(insert_on_conflict(session, LeaveRecord.__table__, ["user", "date"],
                                           ["leave_type", "instance_id", "half"]),
                        [{"user": user.username, "date": day.date, "leave_type": leave_type,
                          "instance_id": instance_id, "half": day.half} for day in days])
        attendance_marks.mark(session, {(user.username, attendance_marks.month_of(day.date)) for day in days})
    return [day.date for day in days]


def _merge_halves(session: Session, username: str, days: list[LeaveDay]) -> list[LeaveDay]:
    """The days to record: a half day whose other half is already leave becomes a whole day."""
    halves = [d.date for d in days if d.half]
    if not halves:
        return days
    recorded = dict(session.execute(select(LeaveRecord.date, LeaveRecord.half).where(
        LeaveRecord.user == username, LeaveRecord.date.in_(halves))).all())
    return [LeaveDay(d.date, None) if d.half and d.date in recorded and recorded[d.date] != d.half else d
            for d in days]


# --------------------------------------------------------------------------- who may see whom
def may_view(session: Session, viewer: User, username: str) -> bool:
    """True if `viewer` may read `username`'s attendance: themselves, an admin, a manager above, a dept head."""
    if viewer.username == username or viewer.has_role("admin"):
        return True
    return username in visible_users(session, viewer)


def _subtree(session: Session, root_ids: set[int]) -> set[int]:
    found = set(root_ids)
    frontier = set(root_ids)
    while frontier:
        frontier = set(session.scalars(select(Department.id).where(Department.parent_id.in_(frontier)))) - found
        found |= frontier
    return found


def visible_users(session: Session, viewer: User) -> set[str]:
    """Usernames whose attendance `viewer` may read (admins: everyone)."""
    if viewer.has_role("admin"):
        return set(session.scalars(select(User.username)))
    names = {viewer.username} | OrgDirectory(session).reports_of(viewer.username)
    headed = set(session.scalars(select(Department.id).where(Department.head_id == viewer.id)))
    if headed:
        names |= set(session.scalars(select(User.username).where(
            User.department_id.in_(_subtree(session, headed)))))
    return names


def records_query(session: Session, viewer: User, username: str, start: date | None, end: date | None) -> Select:
    """Attendance records of `username` in [start, end], newest first, if `viewer` may see them."""
    target = session.scalar(select(User).where(User.username == username))
    if target is None:
        raise NotFound(f"no user {username}")
    if not may_view(session, viewer, username):
        raise Forbidden("you may only read your own attendance or that of people who report to you")
    query = select(AttendanceRecord).where(AttendanceRecord.user == username)
    if start:
        query = query.where(AttendanceRecord.work_date >= start)
    if end:
        query = query.where(AttendanceRecord.work_date <= end)
    return query.order_by(AttendanceRecord.clock_in.desc(), AttendanceRecord.id.desc())


def record_flags(session: Session, record: AttendanceRecord, rule: Shift | None = None,
                 work_day: bool | None = None, exceptions: dict[date, str] | None = None) -> dict[str, bool]:
    """Whether this one shift started late / ended early by the user's shift rule, on a work day of the company
    calendar (`work_day` if the caller knows it; else from `exceptions` if given, else the calendar is read for
    that date — a list of records should use `flags_for`, which reads the calendar once)."""
    if rule is None:
        rule = rule_for(session, session.scalar(select(User).where(User.username == record.user)))
    local_in = to_local(rule, record.clock_in)
    if work_day is None:
        if exceptions is None:
            exceptions = exceptions_between(session, local_in.date(), local_in.date())
        work_day = is_workday(local_in.date(), rule.work_days or (), exceptions)
    late_after = (datetime.combine(local_in.date(), rule.start_time)
                  + timedelta(minutes=rule.grace_minutes or 0)).time()
    late = work_day and local_in.time() > late_after
    early = bool(work_day and record.clock_out is not None
                 and to_local(rule, record.clock_out).time() < rule.end_time)
    return {"late": late, "early_leave": early}


def flags_for(session: Session, records: Sequence[AttendanceRecord],
              rules: dict[str, Shift] | None = None) -> list[dict[str, bool]]:
    """`record_flags` of each record, reading each user's shift rule and the company calendar of the records'
    dates once (not once a record)."""
    if not records:
        return []
    rules = rules if rules is not None else {}
    for name in {r.user for r in records} - rules.keys():
        rules[name] = rule_for(session, session.scalar(select(User).where(User.username == name)))
    days = [to_local(rules[r.user], r.clock_in).date() for r in records]
    exceptions = exceptions_between(session, min(days), max(days))
    return [record_flags(session, r, rules[r.user], exceptions=exceptions) for r in records]


# --------------------------------------------------------------------------- monthly report
@dataclass
class UserMonth:
    """One user's month."""

    user: str
    display_name: str | None
    department: str | None
    work_days: int = 0
    present: int = 0
    late: int = 0
    early_leave: int = 0
    absent: float = 0
    leave: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """JSON form (day counts in halves are numbers like 1.5; whole counts stay integers)."""
        return {"user": self.user, "display_name": self.display_name, "department": self.department,
                "work_days": self.work_days, "present": self.present, "late": self.late,
                "early_leave": self.early_leave, "absent": days_number(self.absent),
                "leave": {k: days_number(v) for k, v in sorted(self.leave.items())},
                "leave_days": days_number(sum(self.leave.values()))}


def days_number(value: float) -> int | float:
    """A count of days as JSON wants it: 2 for 2.0, 1.5 stays 1.5."""
    return int(value) if float(value).is_integer() else float(value)


def parse_month(value: str) -> tuple[date, date]:
    """'YYYY-MM' -> (first day, last day); 422 naming `month` otherwise."""
    try:
        year, month = (int(p) for p in value.split("-"))
        first = date(year, month, 1)
    except (ValueError, TypeError, AttributeError) as err:
        raise InvalidData("month must look like 2026-11",
                          errors=[{"field": "month", "message": "expected YYYY-MM"}]) from err
    return first, date(year, month, _calendar.monthrange(year, month)[1])


def has_shift(user: Someone) -> bool:
    """True if the user works shifts and so can be late or absent: an active employee. A bare admin account or
    an integrator service account has no shift."""
    return bool(user.active) and user.has_role("employee") and not user.has_role("integrator")


def summarise_month(session: Session, users: list[Someone], first: date, last: date,
                    now: datetime | None = None) -> list[UserMonth]:
    """Count present/late/early/absent/leave days per user between first and last (inclusive).

    A work day is a working day of the company calendar for the user's shift rule (oa.workdays.is_workday:
    the rule's week, minus holidays, plus make-up days), on or after their start date; a user without a shift
    has none. The calendar is read here, once for the period, so no caller can forget it; the counting is done
    in the database, a few statements per shift rule (oa.attendance_month)."""
    now = now or utcnow()
    counts = summarise_counts(session, users, first, last, now)
    dept_ids = {u.department_id for u in users if u.department_id is not None}
    dept_names = dict(session.execute(select(Department.id, Department.name).where(
        Department.id.in_(dept_ids))).all()) if dept_ids else {}
    out = []
    for user in users:
        c = counts[user.username]
        out.append(UserMonth(user.username, user.display_name, dept_names.get(user.department_id),
                             c.work_days, c.present, c.late, c.early_leave, c.absent, c.leave))
    return out


def summarise_counts(session: Session, users: list[Someone], first: date, last: date,
                     now: datetime) -> dict[str, MonthCounts]:
    """Each user's counts for [first, last]: within a month, the valid rows of the summary
    (oa.attendance_summary) for the days they cover, plus the days after them counted live; the others live."""
    works = [(u, has_shift(u)) for u in users]
    stored = attendance_summary.read(session, works, first, last, now) if attendance_summary.summarised(
        first, last) else {}
    counts: dict[str, MonthCounts] = {}
    tails: dict[date, list[tuple[Someone, bool]]] = defaultdict(list)  # first day counted live -> people
    for user, shifts in works:
        through, _stored = stored.get(user.username, (None, None))
        if through is None:
            tails[first].append((user, shifts))
        elif through >= last:
            counts[user.username] = _stored
        else:
            tails[through + timedelta(days=1)].append((user, shifts))
    if not tails:
        return counts
    exceptions = exceptions_between(session, first, last)
    for start, group in tails.items():
        for name, live in _count_live(session, group, start, last, exceptions, now).items():
            counts[name] = attendance_summary.add(stored[name][1], live) if name in stored else live
    return counts


def _count_live(session: Session, users: list[tuple[Someone, bool]], first: date, last: date,
                exceptions: dict[date, str], now: datetime) -> dict[str, MonthCounts]:
    """Count [first, last] in the database for `users` (each with whether they work shifts), a few statements
    per shift rule (oa.attendance_month)."""
    counts: dict[str, MonthCounts] = {}
    rules: dict[int | None, Shift] = {}
    groups: dict[tuple[Shift, bool], list[Someone]] = defaultdict(list)
    for user, works in users:
        if user.department_id not in rules:
            rules[user.department_id] = rule_for(session, user)
        groups[rules[user.department_id], works].append(user)
    for (rule, works), group in groups.items():
        counts.update(count_month(session, rule, works, group, first, last, exceptions, now))
    return counts


def refresh_summary(session: Session, now: datetime | None = None) -> int:
    """The scheduler's job: bring the closed-month summary up to date (oa.attendance_summary.refresh)."""
    return attendance_summary.refresh(session, summarise_counts, has_shift, now)


def monthly_report(session: Session, viewer: User, month: str, department_id: int | None = None,  # noqa: PLR0913
                   now: datetime | None = None, users_upto: int | None = None) -> dict[str, Any]:
    """The month per user with a shift and per department, limited to what `viewer` may see.

    Admins see everyone; others see themselves, their reports and the departments they head.
    With `department_id`, only that department and its sub-departments (403 unless the viewer may see it).
    With `users_upto`, `user_count` is the number of users and `users` lists them only if there are no more than
    that (a chart past that many draws departments: ~1,000 rows it would not use cost a tenth of the report)."""
    first, last = parse_month(month)
    where = []
    if department_id is not None:
        dept = session.get(Department, department_id)
        if dept is None:
            raise InvalidData(f"no department {department_id}",
                              errors=[{"field": "department", "message": "unknown department"}])
        subtree = _subtree(session, {dept.id})
        if not viewer.has_role("admin"):
            heads = {d.head_id for d in session.scalars(select(Department).where(Department.id.in_(
                _ancestors(session, dept))))}
            if viewer.id not in heads:
                raise Forbidden("only an admin or the head of this department may read its report")
        where.append(User.department_id.in_(subtree))
    users = members(session, *where)
    if not viewer.has_role("admin"):
        allowed = visible_users(session, viewer)
        users = [u for u in users if u.username in allowed]
    users = [u for u in users if has_shift(u)]
    months = summarise_month(session, users, first, last, now)
    departments: dict[str, dict[str, Any]] = {}
    for m in months:
        key = m.department or "(none)"
        d = departments.get(key)
        if d is None:
            d = departments[key] = {"department": key, "users": 0, "present": 0, "late": 0, "early_leave": 0,
                                    "absent": 0, "leave": Counter()}
        d["users"] += 1
        d["present"] += m.present
        d["late"] += m.late
        d["early_leave"] += m.early_leave
        d["absent"] += m.absent
        if m.leave:
            d["leave"].update(m.leave)
    dept_rows = []
    for key in sorted(departments):
        row = departments[key]
        row["leave_days"] = days_number(sum(row["leave"].values()))
        row["leave"] = {k: days_number(v) for k, v in sorted(row["leave"].items())}
        row["absent"] = days_number(row["absent"])
        dept_rows.append(row)
    listed = users_upto is None or len(months) <= users_upto
    out = {"month": f"{first:%Y-%m}", "from": first.isoformat(), "to": last.isoformat(),
           "users": [m.as_dict() for m in months] if listed else [], "departments": dept_rows}
    if users_upto is not None:
        out["user_count"] = len(months)
    return out


def _ancestors(session: Session, dept: Department) -> set[int]:
    found: set[int] = set()
    current: Department | None = dept
    while current is not None and current.id not in found:
        found.add(current.id)
        current = current.parent
    return found


def report_table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The per-user report as a header and rows (leave types become columns) for CSV/XLSX."""
    leave_types = sorted({t for u in report["users"] for t in u["leave"]})
    header = ["user", "display_name", "department", "work_days", "present", "late", "early_leave", "absent"]
    header += [f"leave_{t}" for t in leave_types] + ["leave_days"]
    rows = []
    for u in report["users"]:
        rows.append([u["user"], u["display_name"] or "", u["department"] or "", u["work_days"], u["present"],
                     u["late"], u["early_leave"], u["absent"]]
                    + [u["leave"].get(t, 0) for t in leave_types] + [u["leave_days"]])
    return header, rows


def department_table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The per-department report as a header and rows."""
    leave_types = sorted({t for d in report["departments"] for t in d["leave"]})
    header = ["department", "users", "present", "late", "early_leave", "absent"]
    header += [f"leave_{t}" for t in leave_types] + ["leave_days"]
    rows = [[d["department"], d["users"], d["present"], d["late"], d["early_leave"], d["absent"]]
            + [d["leave"].get(t, 0) for t in leave_types] + [d["leave_days"]] for d in report["departments"]]
    return header, rows
