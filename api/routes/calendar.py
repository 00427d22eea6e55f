"""Calendar: my events (owned or attending), create/delete, and a colleague's free/busy (no details)."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from api.auth import current_user, login_required
from api.extensions import db
from api.http import json_body, paginate, query_args
from api.schemas import PageArgs
from engine.runtime import begin_write
from oa import calendar
from oa.notifications import notify
from store.clock import to_company
from store.errors import InvalidData
from store.messages import Message

bp = Blueprint("calendar", __name__)


class EventCreate(Schema):
    class Meta:
        unknown = RAISE

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    start = fields.DateTime(required=True)
    end = fields.DateTime(required=True)
    description = fields.String(load_default="", validate=validate.Length(max=10_000))
    location = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    kind = fields.String(load_default="event", validate=validate.OneOf(["event", "meeting", "task", "other"]))
    attendees = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list,
                            validate=validate.Length(max=calendar.MAX_ATTENDEES))
    reminders = fields.List(fields.Integer(strict=True, validate=validate.Range(
        min=0, max=calendar.MAX_REMINDER_MINUTES)), load_default=list, validate=validate.Length(max=5))


class RangeArgs(PageArgs):
    from_ = fields.DateTime(data_key="from")
    to = fields.DateTime()


class FreeBusyArgs(Schema):
    class Meta:
        unknown = RAISE

    user = fields.String(required=True, validate=validate.Length(min=1, max=100))
    from_ = fields.DateTime(data_key="from", required=True)
    to = fields.DateTime(required=True)


def _naive(value):  # noqa: ANN001, ANN202
    return calendar.parse_moment(value, "time") if value is not None else None


def dump_event(e) -> dict:  # noqa: ANN001
    """An event with attendees and my reminders."""
    return {"id": e.id, "owner": e.owner, "title": e.title, "description": e.description, "location": e.location,
            "kind": e.kind, "start": e.start_at.isoformat(), "end": e.end_at.isoformat(),
            "attendees": sorted(a.user for a in e.attendees), "source_instance_id": e.source_instance_id,
            "reminders": sorted({r.minutes_before for r in e.reminders})}


@bp.get("/calendar/events")
@login_required
def list_events() -> dict:
    """Events I own or attend overlapping [from, to)."""
    args = query_args(RangeArgs)
    query = calendar.events_query(current_user().username, _naive(args.get("from_")), _naive(args.get("to")))
    return paginate(query, args["page"], args["per_page"], lambda rows: [dump_event(e) for e in rows])


@bp.post("/calendar/events")
@login_required
def create_event() -> tuple[dict, int]:
    """Create an event in my calendar; attendees are notified and reminded."""
    body = json_body(EventCreate)
    me = current_user().username
    begin_write(db.session)
    event = calendar.add_calendar_event(db.session, me, body["title"], body["start"], body["end"],
                                        attendees=body["attendees"], kind=body["kind"],
                                        description=body["description"], location=body["location"],
                                        reminders=body["reminders"])
    for attendee in event.attendees:
        notify(db.session, attendee.user, "invitation", Message("Invitation: {title}", title=event.title),
               body=Message("{user} invited you ({when})", user=me,
                            when=to_company(event.start_at).strftime("%Y-%m-%d %H:%M %Z")),
               link=f"/calendar/events/{event.id}")
    db.session.commit()
    return dump_event(event), 201


@bp.get("/calendar/events/<int:event_id>")
@login_required
def get_event(event_id: int) -> dict:
    """One event (owner, attendees, admins; anyone else 404)."""
    return dump_event(calendar.get_event(db.session, current_user(), event_id))


@bp.delete("/calendar/events/<int:event_id>")
@login_required
def delete_event(event_id: int) -> tuple[str, int]:
    """Delete my event."""
    viewer = current_user()
    begin_write(db.session)
    calendar.delete_event(db.session, viewer, event_id)
    db.session.commit()
    return "", 204


@bp.get("/calendar/free-busy")
@login_required
def free_busy() -> dict:
    """A colleague's busy intervals between from and to (at most 92 days), without titles."""
    args = query_args(FreeBusyArgs)
    start, end = _naive(args["from_"]), _naive(args["to"])
    if end <= start:
        raise InvalidData("the range ends before it starts", errors=[{"field": "to", "message": "must be after from"}])
    busy = calendar.free_busy(db.session, args["user"], start, end)
    return {"user": args["user"], "from": start.isoformat(), "to": end.isoformat(), "busy": busy}
