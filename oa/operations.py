"""OA operations that BPMN service tasks may call (registered into the engine by the app factory).

- `notify` {user, title, body?}: a notification in the user's inbox, linked to the instance.
- `oa.record_leave` {user, start_date, end_date, leave_type, start_half?, end_half?}: approved leave as leave
  days in attendance (working days of the company calendar; half days when it starts pm or ends am).
- `oa.add_calendar_event` {user, title, start, end, kind?, attendees?}: an event (leave, visit) in a calendar.
- `oa.attach_receipts` {items}: an expense claim's receipts (pending uploads) attached to the claim (oa.receipts).

`oa.record_leave` and `oa.add_calendar_event` write into one user's records: that user must be the instance's
initiator or someone below them in the org chart (or the initiator an administrator or in the `hr` group, who
keep everyone's attendance), checked when writing; otherwise the instance stops with an incident.
"""

from __future__ import annotations

import logging
from typing import Any

from engine.services import ServiceCall, ServiceRegistry
from oa.notifications import notify as write_notification
from store.errors import DomainError, Forbidden

log = logging.getLogger("oaflow.oa")


class OperationFailed(Exception):
    """Bad parameters from a process model: the instance's incident, not the API caller's mistake."""


def _as_incident(func):  # noqa: ANN001, ANN202
    """Turn a caller-facing domain error into an operation failure (an incident on the instance)."""
    def wrapper(call: ServiceCall) -> dict[str, Any]:
        try:
            return func(call)
        except DomainError as err:
            fields = ", ".join(f"{e.get('field')}: {e.get('message')}" for e in err.errors)
            raise OperationFailed(f"{err.detail}{' (' + fields + ')' if fields else ''}") from err
    wrapper.__doc__ = func.__doc__
    wrapper.__name__ = func.__name__
    return wrapper


def _for_initiator(call: ServiceCall, user: object) -> None:
    """Refuse to write into `user`'s records unless the initiator may: themselves, their reports, or an admin.
    No initiator (or the engine's scheduler) acts for the system."""
    from sqlalchemy import select

    from oa.models import User
    from oa.org import OrgDirectory
    starter = call.started_by
    if starter is None or user == starter:
        return
    row = call.session.scalar(select(User).where(User.username == starter))
    if row is None and starter == "scheduler" or row is not None and row.has_role("admin"):
        return
    org = OrgDirectory(call.session)
    if not isinstance(user, str) or user not in org.reports_of(starter) and "hr" not in org.groups_of(starter):
        raise Forbidden(f"the initiator {starter} may not write into the records of {user}")


@_as_incident
def notify(call: ServiceCall) -> dict[str, Any]:
    """Put a notification in a user's inbox, linked to the calling instance."""
    p = call.params
    row = write_notification(call.session, p.get("user"), "process", p.get("title"), body=p.get("body") or "",
                             link=f"/process-instances/{call.instance_id}" if call.instance_id else None,
                             instance_id=call.instance_id)
    call.session.flush()
    return {"notified": row.user, "notification_id": row.id}


@_as_incident
def record_leave(call: ServiceCall) -> dict[str, Any]:
    """Record approved leave days for a user (never counted as absence)."""
    from oa.attendance import record_leave as write_leave
    p = call.params
    _for_initiator(call, p.get("user"))
    days = write_leave(call.session, p.get("user"), p.get("start_date"), p.get("end_date"), p.get("leave_type"),
                       instance_id=call.instance_id, start_half=p.get("start_half"), end_half=p.get("end_half"))
    return {"user": p.get("user"), "leave_days": len(days)}


@_as_incident
def add_calendar_event(call: ServiceCall) -> dict[str, Any]:
    """Put an event in a user's calendar (kind: event, leave, visit, ...)."""
    from oa.calendar import add_calendar_event as write_event
    p = call.params
    _for_initiator(call, p.get("user"))
    event = write_event(call.session, p.get("user"), p.get("title"), p.get("start"), p.get("end"),
                        attendees=p.get("attendees") or (), kind=p.get("kind") or "event",
                        source_instance_id=call.instance_id)
    return {"event_id": event.id}


def register(registry: ServiceRegistry) -> None:
    """Register the OA operations."""
    registry.register("notify", notify, params={"user", "title", "body"}, required={"user", "title"})
    registry.register("oa.record_leave", record_leave, params={"start_half", "end_half"},
                      required={"user", "start_date", "end_date", "leave_type"})
    from oa.receipts import register_operations as register_receipts
    register_receipts(registry)
    registry.register("oa.add_calendar_event", add_calendar_event,
                      params={"user", "title", "start", "end", "kind", "attendees"},
                      required={"user", "title", "start", "end"})
