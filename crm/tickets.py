"""Service tickets and complaints: SLA from priority, hand-off from sales to service with history, outcomes
and satisfaction. `ON_TICKET_CREATED` hooks run after a ticket is created (in the same transaction)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from crm import audit
from crm.access import Viewer, can_read_customer, customer_visible_clause, get_customer
from crm.common import iso
from crm.models import Customer, FollowUp, Ticket
from oa.models import User
from store.base import utcnow
from store.errors import Conflict, Forbidden, InvalidData, NotFound
from store.messages import Message

SLA_HOURS: dict[str, int] = {"urgent": 4, "high": 8, "medium": 24, "low": 72}
PRIORITIES = tuple(SLA_HOURS)
STATUSES = ("open", "in_progress", "resolved", "closed")
TEAMS = ("sales", "service")

ON_TICKET_CREATED: list[Callable[[Session, Ticket], None]] = []


def ticket_dict(t: Ticket, now: datetime | None = None) -> dict[str, Any]:
    """JSON shape of a ticket, with whether its SLA is breached."""
    now = now or utcnow()
    breached = (t.closed_at or now) > t.sla_due_at
    return {"id": t.id, "customer_id": t.customer_id, "kind": t.kind, "title": t.title,
            "description": t.description, "priority": t.priority, "status": t.status, "team": t.team,
            "assignee": t.assignee, "sla_due_at": iso(t.sla_due_at), "sla_breached": breached,
            "outcome": t.outcome, "satisfaction": t.satisfaction, "created_by": t.created_by,
            "created_at": iso(t.created_at), "closed_at": iso(t.closed_at)}


def _readable(session: Session, viewer: Viewer, t: Ticket) -> bool:
    if viewer.is_admin or t.assignee == viewer.username or t.created_by == viewer.username:
        return True
    if t.assignee and viewer.owns_scope(t.assignee):
        return True
    customer = session.get(Customer, t.customer_id)
    return customer is not None and customer.owner is not None and can_read_customer(session, viewer, customer)


def get_ticket(session: Session, viewer: Viewer, ticket_id: int) -> Ticket:
    """The ticket if the viewer may see it (its customer, its assignee or creator, their managers)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not _readable(session, viewer, ticket):
        raise NotFound(f"no ticket {ticket_id}")
    return ticket


def _check_user(session: Session, username: str | None, field: str) -> None:
    if username is not None and session.scalar(select(User.id).where(User.username == username,
                                                                        User.active.is_(True))) is None:
        raise InvalidData(f"no user {username}", errors=[{"field": field, "message": "unknown user"}])


def create_ticket(session: Session, viewer: Viewer, data: dict[str, Any], now: datetime | None = None) -> Ticket:
    """Open a ticket on a customer the viewer sees; the SLA due time follows from the priority."""
    customer = get_customer(session, viewer, data["customer_id"], field="customer_id")
    if customer.owner is None and not viewer.is_admin:
        raise InvalidData(Message("claim the customer before opening tickets"),
                          errors=[{"field": "customer_id", "message": Message("the customer is in the public pool")}])
    _check_user(session, data.get("assignee"), "assignee")
    now = now or utcnow()
    priority = data.get("priority") or "medium"
    ticket = Ticket(customer_id=customer.id, kind=data.get("kind") or "service", title=data["title"].strip(),
                    description=data.get("description"), priority=priority, status="open",
                    team=data.get("team") or "sales", assignee=data.get("assignee") or viewer.username,
                    sla_due_at=now + timedelta(hours=SLA_HOURS[priority]), created_by=viewer.username,
                    created_at=now)
    session.add(ticket)
    session.flush()
    audit.record(session, "ticket", ticket.id, viewer.username, "create",
                 {"title": (None, ticket.title), "priority": (None, priority), "assignee": (None, ticket.assignee)})
    for hook in list(ON_TICKET_CREATED):
        hook(session, ticket)
    return ticket


def _editable(session: Session, viewer: Viewer, ticket_id: int) -> Ticket:
    ticket = get_ticket(session, viewer, ticket_id)
    if ticket.status == "closed":
        raise Conflict(Message("ticket {id} is closed", id=ticket_id))
    return ticket


def update_ticket(session: Session, viewer: Viewer, ticket_id: int, data: dict[str, Any]) -> Ticket:
    """Change status, priority (recomputes the SLA), assignee, title or description."""
    ticket = _editable(session, viewer, ticket_id)
    data = {k: v for k, v in data.items() if k in ("title", "description", "priority", "status", "assignee")}
    if data.get("status") == "closed":
        raise InvalidData("close a ticket with /close and an outcome",
                          errors=[{"field": "status", "message": "use POST /tickets/{id}/close"}])
    _check_user(session, data.get("assignee"), "assignee")
    if "priority" in data and data["priority"] != ticket.priority:
        data["sla_due_at"] = ticket.created_at + timedelta(hours=SLA_HOURS[data["priority"]])
    changes = audit.apply_changes(ticket, data)
    if changes:
        audit.record(session, "ticket", ticket.id, viewer.username, "update", changes)
    session.flush()
    return ticket


def hand_off(session: Session, viewer: Viewer, ticket_id: int, team: str, assignee: str | None,
             note: str | None) -> Ticket:
    """Hand a ticket to another team (sales -> service) and person; its history travels with it."""
    ticket = _editable(session, viewer, ticket_id)
    if team == ticket.team and (assignee is None or assignee == ticket.assignee):
        raise InvalidData("the ticket is already with that team", errors=[{"field": "team", "message": "unchanged"}])
    _check_user(session, assignee, "assignee")
    changes = audit.apply_changes(ticket, {"team": team, "assignee": assignee or ticket.assignee})
    if note:
        changes["note"] = (None, note)
    audit.record(session, "ticket", ticket.id, viewer.username, "handoff", changes)
    session.flush()
    return ticket


def record_outcome(session: Session, ticket: Ticket, outcome: str, user: str | None,
                   satisfaction: int | None = None, now: datetime | None = None) -> Ticket:
    """Close a ticket with its outcome (no access check: callers check). Closing again is a 409."""
    if ticket.status == "closed":
        raise Conflict(Message("ticket {id} is already closed", id=ticket.id))
    if not isinstance(outcome, str) or not outcome.strip():
        raise InvalidData("an outcome is required", errors=[{"field": "outcome", "message": "must not be blank"}])
    if satisfaction is not None and (not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5):
        raise InvalidData("satisfaction must be 1 to 5", errors=[{"field": "satisfaction", "message": "1 to 5"}])
    changes = audit.apply_changes(ticket, {"status": "closed", "outcome": outcome.strip(),
                                           "satisfaction": satisfaction, "closed_at": now or utcnow()})
    audit.record(session, "ticket", ticket.id, user, "close", changes)
    session.flush()
    return ticket


def close_ticket(session: Session, viewer: Viewer, ticket_id: int, outcome: str,
                 satisfaction: int | None) -> Ticket:
    """The viewer closes a ticket they see."""
    ticket = get_ticket(session, viewer, ticket_id)
    if not may_close(session, viewer, ticket):
        raise Forbidden(f"you may read ticket {ticket_id} but not close it")
    return record_outcome(session, ticket, outcome, viewer.username, satisfaction)


def may_close(session: Session, viewer: Viewer, ticket: Ticket) -> bool:
    """True if the viewer may close the ticket: its assignee (or their manager), its creator, or someone who
    may change its customer. The API and the flows' ticket operations apply this one rule."""
    if viewer.is_admin or ticket.assignee == viewer.username or viewer.owns_scope(ticket.assignee) \
            or ticket.created_by == viewer.username:
        return True
    customer = session.get(Customer, ticket.customer_id)
    from crm.access import can_edit_customer
    return customer is not None and can_edit_customer(session, viewer, customer)


def list_query(viewer: Viewer, filters: dict[str, Any]) -> Select:
    """Tickets the viewer sees."""
    query = select(Ticket)
    if not viewer.is_admin:
        visible = select(Customer.id).where(customer_visible_clause(viewer))
        query = query.where(or_(Ticket.customer_id.in_(visible), Ticket.assignee.in_(sorted(viewer.owners)),
                                Ticket.created_by == viewer.username))
    for name in ("customer_id", "status", "priority", "team", "assignee"):
        if filters.get(name) is not None:
            query = query.where(getattr(Ticket, name) == filters[name])
    return query.order_by(Ticket.id.desc())


def history(session: Session, viewer: Viewer, ticket: Ticket) -> dict[str, Any]:
    """The ticket's own audit trail plus the customer's other tickets and recent follow-ups."""
    others = session.scalars(select(Ticket).where(Ticket.customer_id == ticket.customer_id, Ticket.id != ticket.id)
                             .order_by(Ticket.id.desc()).limit(20))
    from crm.follow_ups import follow_up_dict
    fus = session.scalars(select(FollowUp).where(FollowUp.customer_id == ticket.customer_id)
                          .order_by(FollowUp.id.desc()).limit(20))
    return {"history": [audit.as_dict(e) for e in audit.entries(session, "ticket", ticket.id)],
            "customer_history": {"tickets": [ticket_dict(t) for t in others],
                                 "follow_ups": [follow_up_dict(f) for f in fus]}}
