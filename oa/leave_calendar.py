"""Approved leave in the owner's calendar: one entry per recorded leave day (oa.attendance.record_leave), all day
in the company time zone (store.clock) - midnight to midnight - or the half of the day a half day is (00:00-12:00
for the morning, 12:00-24:00 for the afternoon), titled with the leave type's English title ("Annual leave"),
which the pages show in the reader's language. Weekends and holidays inside the leave get no entry: they are
not leave days.

The entries are those of the leave days of one instance (the leave flow's calendar step, after its attendance
step) or of a user's days without an instance (the demo data); writing them again replaces them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from oa.calendar import add_calendar_event
from oa.record_models import CalendarEvent, LeaveRecord
from store.clock import wall_time_utc

KIND = "leave"
# the leave types of the shipped leave form and their titles (its enumNames); the catalogs translate them
LEAVE_TITLES = {"annual": "Annual leave", "sick": "Sick leave", "personal": "Personal leave",
                "marriage": "Marriage leave", "maternity": "Maternity leave", "bereavement": "Bereavement leave"}


def leave_title(leave_type: str) -> str:
    """The calendar title of a leave type: "Annual leave" for `annual`, "Leave (x)" for another type x."""
    return LEAVE_TITLES.get(leave_type) or f"Leave ({leave_type})"


def day_span(day: date, half: str | None) -> tuple[datetime, datetime]:
    """The stored (naive UTC) [start, end) of a leave day in the company zone: the whole day, or its half."""
    noon = wall_time_utc(day, time(12))
    start, end = wall_time_utc(day, time(0)), wall_time_utc(day + timedelta(days=1), time(0))
    return (start, noon) if half == "am" else (noon, end) if half == "pm" else (start, end)


def put_leave_in_calendar(session: Session, username: str, instance_id: int | None,
                          first: date | None = None, last: date | None = None) -> list[CalendarEvent]:
    """Replace `username`'s leave entries of `instance_id` (None: those without an instance, between first and
    last) by one entry per recorded leave day; returns them (none if no leave day is recorded)."""
    records = select(LeaveRecord).where(LeaveRecord.user == username, LeaveRecord.instance_id.is_(None)
                                        if instance_id is None else LeaveRecord.instance_id == instance_id)
    events = select(CalendarEvent).where(CalendarEvent.owner == username, CalendarEvent.kind == KIND,
                                         CalendarEvent.source_instance_id.is_(None) if instance_id is None
                                         else CalendarEvent.source_instance_id == instance_id)
    if first is not None:
        records = records.where(LeaveRecord.date >= first)
        events = events.where(CalendarEvent.end_at > wall_time_utc(first, time(0)))
    if last is not None:
        records = records.where(LeaveRecord.date <= last)
        events = events.where(CalendarEvent.start_at < wall_time_utc(last + timedelta(days=1), time(0)))
    days = session.scalars(records.order_by(LeaveRecord.date)).all()
    if not days:
        return []
    for old in session.scalars(events).all():  # through the session: its attendees and reminders go with it
        session.delete(old)
    session.flush()
    made = []
    for day in days:
        start, end = day_span(day.date, day.half)
        made.append(add_calendar_event(session, username, leave_title(day.leave_type), start, end, kind=KIND,
                                       source_instance_id=instance_id))
    return made
