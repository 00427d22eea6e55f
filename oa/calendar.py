"""Calendar: events with attendees and reminders, free/busy of colleagues, and the reminder job.

Times are naive UTC. `fire_due_reminders` is what the scheduler calls; it claims each reminder with a
conditional UPDATE ... WHERE sent_at IS NULL, so two schedulers never send the same reminder twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from oa.models import User
from oa.notifications import notify
from oa.org import OrgDirectory
from oa.record_models import CalendarEvent, EventAttendee, EventReminder
from store.clock import company_timezone, day_start_utc, to_company
from store.direct import insert_now
from store.errors import Forbidden, InvalidData, NotFound
from store.messages import Message

MAX_EVENT_DAYS = 366
MAX_REMINDER_MINUTES = 60 * 24 * 14
MAX_ATTENDEES = 200


def parse_moment(value: Any, field_name: str, *, end: bool = False) -> datetime:
    """A datetime (aware ones converted to naive UTC) or ISO text; a bare date is the start of that day
    (for `end`, the start of the next day, so 'start_date'..'end_date' covers both whole days)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = day_start_utc(value + timedelta(days=1 if end else 0))  # the company's midnight, as stored
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            if len(text) == 10:
                return parse_moment(date.fromisoformat(text), field_name, end=end)
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as err:
            raise InvalidData(f"{field_name} is not a date-time",
                              errors=[{"field": field_name, "message": "expected an ISO 8601 date-time"}]) from err
    else:
        raise InvalidData(f"{field_name} is required", errors=[{"field": field_name, "message": "required"}])
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def wall_clock(value: Any) -> Any:
    """A flow's date-time without a zone (`visit_date + "T09:00:00"`) as the company's wall-clock time (aware), as
    the people who wrote the flow meant it; dates, times with a zone and anything else are returned as they are
    (`parse_moment` reads and checks them)."""
    moment = value
    if isinstance(value, str) and len(value.strip()) > 10:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(moment, datetime) and moment.tzinfo is None:
        return moment.replace(tzinfo=company_timezone())
    return value


def _known_users(session: Session, names: Iterable[str], field_name: str) -> list[str]:
    wanted = []
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise InvalidData("attendees must be usernames", errors=[{"field": field_name, "message": "bad user"}])
        if name.strip() not in wanted:
            wanted.append(name.strip())
    if len(wanted) > MAX_ATTENDEES:
        raise InvalidData("too many attendees",
                          errors=[{"field": field_name, "message": f"at most {MAX_ATTENDEES}"}])
    if not wanted:
        return wanted
    found = set(session.scalars(select(User.username).where(User.username.in_(wanted), User.active.is_(True))))
    missing = [n for n in wanted if n not in found]
    if missing:
        raise InvalidData(f"unknown users: {', '.join(missing)}",
                          errors=[{"field": field_name, "message": f"unknown user {m}"} for m in missing])
    return wanted


def add_calendar_event(session: Session, owner: str, title: str, start: Any, end: Any, attendees: Iterable[str] = (),
                       kind: str = "event", source_instance_id: int | None = None, *, description: str = "",
                       location: str | None = None, reminders: Iterable[int] = ()) -> CalendarEvent:
    """Create an event in `owner`'s calendar; `reminders` are minutes before the start (for owner and attendees)."""
    if not isinstance(owner, str) or not OrgDirectory(session).user_exists(owner.strip()):
        raise InvalidData(f"unknown users: {owner}", errors=[{"field": "user", "message": f"unknown user {owner}"}])
    owner = owner.strip()
    if not isinstance(title, str) or not title.strip():
        raise InvalidData("a title is required", errors=[{"field": "title", "message": "required"}])
    if isinstance(attendees, str):
        attendees = [a for a in attendees.replace(";", ",").split(",") if a.strip()]
    start_at, end_at = parse_moment(start, "start"), parse_moment(end, "end", end=True)
    if end_at <= start_at:
        raise InvalidData("the event ends before it starts",
                          errors=[{"field": "end", "message": "must be after start"}])
    if end_at - start_at > timedelta(days=MAX_EVENT_DAYS):
        raise InvalidData("the event is too long", errors=[{"field": "end", "message": "at most a year"}])
    people = [a for a in _known_users(session, attendees, "attendees") if a != owner]
    event = CalendarEvent(owner=owner, title=title.strip()[:200], description=description or "",
                          location=location, kind=(kind or "event")[:20], start_at=start_at, end_at=end_at,
                          source_instance_id=source_instance_id)
    children: list[EventAttendee | EventReminder] = [EventAttendee(user=a) for a in people]
    for minutes in sorted(set(reminders or ())):
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 <= minutes <= MAX_REMINDER_MINUTES:
            raise InvalidData("bad reminder", errors=[{"field": "reminders",
                                                       "message": f"minutes between 0 and {MAX_REMINDER_MINUTES}"}])
        children += [EventReminder(user=user, minutes_before=minutes, remind_at=start_at - timedelta(minutes=minutes))
                     for user in [owner, *people]]
    insert_now(session, [event])  # one INSERT; its attendees and reminders (if any) follow with the next flush
    for child in children:
        child.event_id = event.id
        session.add(child)
    return event


def _involving(username: str):  # noqa: ANN202
    return or_(CalendarEvent.owner == username,
               CalendarEvent.id.in_(select(EventAttendee.event_id).where(EventAttendee.user == username)))


def events_query(username: str, start: datetime | None = None, end: datetime | None = None) -> Select:
    """Events the user owns or attends, overlapping [start, end), by start time."""
    query = select(CalendarEvent).where(_involving(username))
    if start is not None:
        query = query.where(CalendarEvent.end_at > start)
    if end is not None:
        query = query.where(CalendarEvent.start_at < end)
    return query.order_by(CalendarEvent.start_at, CalendarEvent.id)


def get_event(session: Session, viewer: User, event_id: int) -> CalendarEvent:
    """An event its owner, an attendee or an admin may read; 404 for anyone else."""
    event = session.get(CalendarEvent, event_id)
    if event is None or not (viewer.has_role("admin") or event.owner == viewer.username
                             or any(a.user == viewer.username for a in event.attendees)):
        raise NotFound(f"no event {event_id}")
    return event


def delete_event(session: Session, viewer: User, event_id: int) -> None:
    """Delete an event (owner or admin; attendees get 403-as-404 semantics: they cannot delete)."""
    event = get_event(session, viewer, event_id)
    if event.owner != viewer.username and not viewer.has_role("admin"):
        raise Forbidden("only the organiser may delete the event")
    session.delete(event)
    session.flush()


def free_busy(session: Session, username: str, start: datetime, end: datetime) -> list[dict[str, str]]:
    """Merged busy intervals of an active user within [start, end) — no titles or details."""
    if session.scalar(select(User.id).where(User.username == username, User.active.is_(True))) is None:
        raise NotFound(f"no user {username}")
    if end <= start:
        raise InvalidData("the range ends before it starts", errors=[{"field": "to", "message": "must be after from"}])
    if end - start > timedelta(days=92):
        raise InvalidData("the range is too long", errors=[{"field": "to", "message": "at most 92 days"}])
    intervals = []
    for event in session.scalars(events_query(username, start, end)):
        intervals.append((max(event.start_at, start), min(event.end_at, end)))
    merged: list[list[datetime]] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [{"start": s.isoformat(), "end": e.isoformat()} for s, e in merged]


def fire_due_reminders(session: Session, now: datetime) -> int:
    """Send every reminder due by `now` as a notification, each exactly once; commits; returns how many it sent.

    Each reminder is claimed by `UPDATE event_reminder SET sent_at = now WHERE id = ? AND sent_at IS NULL`;
    only the scheduler whose update changed the row sends it, so several schedulers may run this at once.
    """
    due = session.execute(select(EventReminder.id).where(EventReminder.sent_at.is_(None),
                                                         EventReminder.remind_at <= now)
                          .order_by(EventReminder.remind_at).limit(500)).scalars().all()
    session.commit()
    sent = 0
    for reminder_id in due:
        claimed = session.execute(update(EventReminder).where(EventReminder.id == reminder_id,
                                                              EventReminder.sent_at.is_(None)).values(sent_at=now))
        if claimed.rowcount != 1:
            session.rollback()
            continue
        reminder = session.get(EventReminder, reminder_id)
        event = session.get(CalendarEvent, reminder.event_id)
        if event is not None and event.end_at > now:
            when = to_company(event.start_at).strftime("%Y-%m-%d %H:%M %Z")
            notify(session, reminder.user, "reminder", Message("Reminder: {title}", title=event.title),
                   body=Message("Starts {when}", when=when),
                   link=f"/calendar/events/{event.id}", instance_id=event.source_instance_id)
            sent += 1
        session.commit()
    return sent

