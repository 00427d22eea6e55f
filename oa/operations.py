"""OA operations that BPMN service tasks may call (registered into the engine by the app factory).

- `notify` {user, title, body?}: a notification in the user's inbox, linked to the instance.
- `oa.record_leave` {user, start_date, end_date, leave_type, start_half?, end_half?}: approved leave as leave
  days in attendance (working days of the company calendar; half days when it starts pm or ends am).
- `oa.add_calendar_event` {user, title, start, end, kind?, attendees?}: an event (leave, visit) in a calendar;
  a start or end without a zone (`visit_date + "T09:00:00"`) is the company's wall-clock time (OAFLOW_TIMEZONE),
  a bare date the company's day. With kind `leave` in an instance that recorded leave days for the user
  (`oa.record_leave` before it), those days become the entries instead: one all-day entry per leave day in the
  company time zone, titled with the leave type (oa.leave_calendar), whatever start, end and title say (a
  title in the flow's language would not follow the reader's).
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
    from oa.org import OrgDirectory
    from store.errors import InvalidData
    p = call.params
    target = p.get("user")
    if not isinstance(target, str) or not OrgDirectory(call.session).is_employee(target):
        # an unknown, deactivated or service account name (or `ADMIN`, ` admin `): no inbox is written
        raise InvalidData(f"notify: {str(target)[:100]!r} is not an active colleague")
    row = write_notification(call.session, target, "process", p.get("title"), body=p.get("body") or "",
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
    from oa.calendar import wall_clock
    from oa.leave_calendar import KIND, put_leave_in_calendar
    p = call.params
    _for_initiator(call, p.get("user"))
    if p.get("kind") == KIND and call.instance_id is not None and isinstance(p.get("user"), str):
        entries = put_leave_in_calendar(call.session, p["user"], call.instance_id)
        if entries:
            return {"event_id": entries[0].id, "event_ids": [e.id for e in entries]}
    event = write_event(call.session, p.get("user"), p.get("title"), wall_clock(p.get("start")),
                        wall_clock(p.get("end")),
                        attendees=p.get("attendees") or (), kind=p.get("kind") or "event",
                        source_instance_id=call.instance_id)
    return {"event_id": event.id}


def _user_precheck(session: Any, username: str, known: dict[str, Any]) -> list[tuple[str, str]]:
    """At start: the `user` whose records the operation writes, when the flow names it from its start data."""
    if "user" not in known:
        return []
    call = ServiceCall(params=known, instance_id=None, business_key=None, started_by=username, session=session)
    try:
        _for_initiator(call, known["user"])
    except DomainError as err:
        return [("user", err.detail)]
    return []


def register(registry: ServiceRegistry) -> None:
    """Register the OA operations."""
    registry.register("notify", notify, params={"user", "title", "body"}, required={"user", "title"},
                      writes_records=False)
    registry.register("oa.record_leave", record_leave, params={"start_half", "end_half"},
                      required={"user", "start_date", "end_date", "leave_type"}, precheck=_user_precheck)
    from oa.receipts import register_operations as register_receipts
    register_receipts(registry)
    registry.register("oa.add_calendar_event", add_calendar_event,
                      params={"user", "title", "start", "end", "kind", "attendees"},
                      required={"user", "title", "start", "end"}, precheck=_user_precheck)
