"""Demo OA records for the demo organisation: three months of attendance on the working days of the company
calendar (loaded first: nobody clocks in on a public holiday, everyone works the make-up days; lateness and
absences differ from person to person, one person on approved leave, nobody before their hire date),
announcements, a forum board with a thread, and calendar events. Safe to run twice.

Clock times and meeting times are the company's wall-clock times (OAFLOW_TIMEZONE), stored as UTC like every
time. Demo data seeded before that stored the wall-clock times themselves as UTC (08:34 read as 16:34 in
Shanghai, every day late and left early) and erin's leave as one entry over the weekend; seeding again repairs
those rows (`_repair`), so an existing demo database need not be rebuilt."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from oa.attendance import default_rule, record_leave
from oa.calendar import add_calendar_event
from oa.holidays import exceptions_between, load_shipped
from oa.leave_calendar import KIND as LEAVE_KIND
from oa.leave_calendar import put_leave_in_calendar
from oa.models import Department, User
from oa.record_models import Announcement, AttendanceRecord, CalendarEvent, ForumBoard, ForumPost, ForumThread
from oa.workdays import is_workday
from store.base import utcnow
from store.clock import company_date, to_company, wall_time_utc

STAFF = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]
WORK_DAYS_BACK = 66  # about three months
LATE_PRONE = {"alice": 0.25, "frank": 0.15, "bob": 0.08, "grace": 0.06}  # everyone else 0.02
ABSENT_DAYS = {"frank": (6, 13, 41), "alice": (19, 52), "bob": (33,), "grace": (27, 28)}  # working days back
LEAVE = ("erin", 8, 10, "annual")  # erin is on approved annual leave on these working days back
CLOCK_IN = (time(8, 30), time(9, 51))  # [from, to): the clock-ins and clock-outs the demo makes up
CLOCK_OUT = (time(17, 0), time(18, 41))
MEETINGS = [("bob", "Weekly sales meeting", 0, time(10), 60, ["alice"]),  # owner, title, days after Monday, ...
            ("dave", "Management review", 2, time(14), 90, ["bob", "carol", "erin", "frank"])]


def _work_days_back(session: Session, today: date, count: int) -> list[date]:
    """The `count` working days of the company calendar (default shift week) before today, newest first."""
    week = default_rule(session).work_days
    exceptions = exceptions_between(session, today - timedelta(days=2 * count + 60), today)
    days, day = [], today - timedelta(days=1)
    while len(days) < count:
        if is_workday(day, week, exceptions):
            days.append(day)
        day -= timedelta(days=1)
    return days


def _attendance(session: Session, progress: Callable[[str], None]) -> None:
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(STAFF)))}
    if not users:
        return
    if session.scalar(select(AttendanceRecord.id).where(AttendanceRecord.user == "alice").limit(1)):
        _repair(session, progress)
        progress("attendance: already there")
        return
    rng = random.Random(42)
    load_shipped(session)  # the calendar first: attendance follows its holidays and make-up days
    days = _work_days_back(session, company_date(), WORK_DAYS_BACK)
    leave_user, leave_from, leave_to, leave_type = LEAVE
    leave_days = set(days[leave_from - 1:leave_to])
    if leave_user in users:
        record_leave(session, leave_user, min(leave_days), max(leave_days), leave_type)
        put_leave_in_calendar(session, leave_user, None, min(leave_days), max(leave_days))
    rows = 0
    for index, day in enumerate(days, start=1):
        for name in users:
            hired = users[name].start_date
            if (name == leave_user and day in leave_days) or index in ABSENT_DAYS.get(name, ()) \
                    or (hired is not None and day < hired):
                continue
            late = rng.random() < LATE_PRONE.get(name, 0.02)
            start = time(9, rng.randint(15, 50)) if late else time(8, rng.randint(30, 59))
            end = time(17, rng.randint(0, 50)) if rng.random() < 0.05 else time(18, rng.randint(0, 40))
            session.add(AttendanceRecord(user=name, work_date=day, clock_in=wall_time_utc(day, start),
                                         clock_out=wall_time_utc(day, end)))
            rows += 1
    session.flush()
    progress(f"attendance: {rows} shifts over {len(days)} working days, {len(leave_days)} leave days for "
             f"{leave_user}")


def _made_up(moment: datetime | None, day: date, window: tuple[time, time]) -> bool:
    """True if `moment` on `day` is within `window`, one of the times the demo makes up."""
    return moment is not None and moment.date() == day and window[0] <= moment.time() < window[1]


def _repair(session: Session, progress: Callable[[str], None]) -> None:
    """Put right what an earlier seeding stored: clock times and meetings whose wall-clock time was stored as
    UTC, and erin's leave as one entry across the weekend. A row is moved only if its stored time is one the
    demo makes up and its company time is not (so a second run, or a company zone at UTC, moves nothing)."""
    moved = 0
    for row in session.scalars(select(AttendanceRecord).where(AttendanceRecord.user.in_(STAFF),
                                                              AttendanceRecord.clock_out.is_not(None))):
        day = row.work_date
        local_in, local_out = (to_company(t).replace(tzinfo=None) for t in (row.clock_in, row.clock_out))
        if (_made_up(row.clock_in, day, CLOCK_IN) and _made_up(row.clock_out, day, CLOCK_OUT)
                and not (_made_up(local_in, day, CLOCK_IN) and _made_up(local_out, day, CLOCK_OUT))):
            row.clock_in = wall_time_utc(day, row.clock_in.time())
            row.clock_out = wall_time_utc(day, row.clock_out.time())  # the flush marks the month for recount
            moved += 1
    for owner, title, _days, at, _minutes, _attendees in MEETINGS:
        for event in session.scalars(select(CalendarEvent).where(CalendarEvent.owner == owner,
                                                                 CalendarEvent.title == title)):
            if event.start_at.time() == at and to_company(event.start_at).time() != at:
                length = event.end_at - event.start_at
                event.start_at = wall_time_utc(event.start_at.date(), at)
                event.end_at = event.start_at + length
                for reminder in event.reminders:
                    reminder.remind_at = event.start_at - timedelta(minutes=reminder.minutes_before)
                moved += 1
    leave_user = LEAVE[0]
    for event in session.scalars(select(CalendarEvent).where(
            CalendarEvent.owner == leave_user, CalendarEvent.kind == LEAVE_KIND,
            CalendarEvent.source_instance_id.is_(None))).all():
        if event.end_at - event.start_at > timedelta(days=1):  # one entry over several days: one per leave day
            put_leave_in_calendar(session, leave_user, None, to_company(event.start_at).date(),
                                  to_company(event.end_at - timedelta(seconds=1)).date())
            moved += 1
    if moved:
        session.flush()
        progress(f"demo times repaired: {moved} rows stored wall-clock times as UTC")


def _announcements(session: Session, progress: Callable[[str], None]) -> None:
    now = utcnow()
    sales = session.scalar(select(Department).where(Department.name == "Sales"))
    wanted = [("Welcome to oaflow", "Clock in from the home page; file leave and expenses under Requests.",
               "admin", None),
              ("Q4 sales kick-off", "Kick-off on Monday at 10:00 in the big room. Bring your pipeline.",
               "bob", sales)]
    made = 0
    for title, body, author, dept in wanted:
        if session.scalar(select(Announcement.id).where(Announcement.title == title)) is not None:
            continue
        row = Announcement(title=title, body=body, author=author, audience_all=dept is None,
                           publish_at=now - timedelta(days=1), expire_at=now + timedelta(days=30), created_at=now)
        row.departments = [dept] if dept is not None else []
        session.add(row)
        made += 1
    progress(f"announcements: {made} new")


def _forum(session: Session, progress: Callable[[str], None]) -> None:
    board = session.scalar(select(ForumBoard).where(ForumBoard.name == "General"))
    if board is None:
        board = ForumBoard(name="General", description="Questions and news for everyone", created_at=utcnow())
        session.add(board)
        session.flush()
    if session.scalar(select(ForumThread.id).where(ForumThread.board_id == board.id)) is not None:
        progress("forum: already there")
        return
    now = utcnow()
    thread = ForumThread(board_id=board.id, title="Where do I find the expense rules?", author="alice",
                         created_at=now - timedelta(hours=5), last_post_at=now - timedelta(hours=2),
                         locked=False, hidden=False)
    session.add(thread)
    session.flush()
    session.add_all([
        ForumPost(thread_id=thread.id, author="alice", body="Is there a limit for client dinners? @carol",
                  created_at=now - timedelta(hours=5), hidden=False),
        ForumPost(thread_id=thread.id, author="carol", body="Up to 500 per claim goes to your manager; above that "
                  "finance approves too. The form explains the categories.", created_at=now - timedelta(hours=2),
                  hidden=False)])
    progress("forum: board 'General' with one thread")


def _calendar(session: Session, progress: Callable[[str], None]) -> None:
    today = company_date()
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    made = 0
    for owner, title, after, at, minutes, attendees in MEETINGS:
        start = wall_time_utc(monday + timedelta(days=after), at)
        if session.scalar(select(CalendarEvent.id).where(CalendarEvent.owner == owner,
                                                         CalendarEvent.title == title)) is not None:
            continue
        add_calendar_event(session, owner, title, start, start + timedelta(minutes=minutes), attendees=attendees,
                           reminders=[15])
        made += 1
    progress(f"calendar: {made} new events")


def seed(session: Session, progress: Callable[[str], None] = print) -> None:
    """Fill the demo OA records (the demo organisation must exist); the caller commits."""
    if session.scalar(select(User.id).where(User.username == "alice")) is None:
        progress("demo records skipped: seed the demo organisation first")
        return
    _attendance(session, progress)
    _announcements(session, progress)
    _forum(session, progress)
    _calendar(session, progress)
    session.flush()
