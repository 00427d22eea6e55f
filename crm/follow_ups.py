"""Follow-up records (call, visit, email, meeting), visit plans, and next-follow-up reminders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from crm import audit
from crm.access import Viewer, customer_of_row_visible, get_customer, get_opportunity
from crm.common import iso
from crm.models import Customer, FollowUp, VisitPlan
from store.base import utcnow
from store.clock import company_date
from store.errors import InvalidData
from store.messages import Message

TYPES = ("call", "visit", "email", "meeting")


def follow_up_dict(f: FollowUp) -> dict[str, Any]:
    """JSON shape of a follow-up."""
    return {"id": f.id, "customer_id": f.customer_id, "opportunity_id": f.opportunity_id, "ticket_id": f.ticket_id,
            "user": f.user,
            "type": f.type, "content": f.content, "next_follow_up_date": iso(f.next_follow_up_date),
            "satisfaction": f.satisfaction, "reminder_sent_at": iso(f.reminder_sent_at),
            "created_at": iso(f.created_at)}


def record_follow_up(session: Session, customer: Customer, user: str, type_: str, content: str,
                     next_follow_up_date: date | None = None, satisfaction: int | None = None,
                     opportunity_id: int | None = None, now: datetime | None = None) -> FollowUp:
    """Write a follow-up (no access check: callers check) and mark the customer as followed up now."""
    errors = []
    if type_ not in TYPES:
        errors.append({"field": "type", "message": f"must be one of {', '.join(TYPES)}"})
    if not isinstance(content, str) or not content.strip():
        errors.append({"field": "content", "message": "must not be blank"})
    if satisfaction is not None and (not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5):
        errors.append({"field": "satisfaction", "message": "must be 1 to 5"})
    if errors:
        raise InvalidData("invalid follow-up", errors=errors)
    now = now or utcnow()
    row = FollowUp(customer_id=customer.id, opportunity_id=opportunity_id, user=user, type=type_,
                   content=content.strip(), next_follow_up_date=next_follow_up_date, satisfaction=satisfaction,
                   created_at=now)
    session.add(row)
    if customer.last_follow_up_at is None or customer.last_follow_up_at < now:
        customer.last_follow_up_at = now
    session.flush()
    audit.record(session, "follow_up", row.id, user, "create",
                 {"type": (None, type_), "content": (None, row.content),
                  "next_follow_up_date": (None, next_follow_up_date)})
    return row


def add_follow_up(session: Session, viewer: Viewer, data: dict[str, Any]) -> FollowUp:
    """The viewer records a follow-up on a customer they may edit."""
    customer = get_customer(session, viewer, data["customer_id"], edit=True, field="customer_id")
    opp_id = data.get("opportunity_id")
    if opp_id is not None:
        opp = get_opportunity(session, viewer, opp_id)
        if opp.customer_id != customer.id:
            raise InvalidData("the opportunity belongs to another customer",
                              errors=[{"field": "opportunity_id", "message": "belongs to another customer"}])
    return record_follow_up(session, customer, viewer.username, data["type"], data["content"],
                            data.get("next_follow_up_date"), data.get("satisfaction"), opp_id)


def list_query(viewer: Viewer, filters: dict[str, Any]) -> Select:
    """Follow-ups on customers the viewer sees."""
    query = select(FollowUp).where(customer_of_row_visible(viewer, FollowUp.customer_id))
    for name in ("customer_id", "user", "type"):
        if filters.get(name) is not None:
            query = query.where(getattr(FollowUp, name) == filters[name])
    return query.order_by(FollowUp.id.desc())


def create_visit_plan(session: Session, customer: Customer, user: str, visit_date: date, purpose: str | None,
                      instance_id: int | None = None) -> VisitPlan:
    """Plan a customer visit (no access check: the approval flow already decided)."""
    plan = VisitPlan(customer_id=customer.id, user=user, visit_date=visit_date, purpose=purpose,
                     instance_id=instance_id, created_at=utcnow())
    session.add(plan)
    session.flush()
    audit.record(session, "visit_plan", plan.id, user, "create",
                 {"customer_id": (None, customer.id), "visit_date": (None, visit_date)})
    return plan


def _notify(session: Session, user: str, title: str, body: str, link: str) -> None:
    try:
        from oa.notifications import notify
    except ImportError:  # the OA inbox is optional
        return
    notify(session, user, "crm.follow_up", title, body, link)


def fire_due_follow_up_reminders(session: Session, now: datetime) -> int:
    """Send a reminder for every follow-up whose next date has come; each one is claimed once (conditional
    UPDATE), so several schedulers never remind twice. Returns how many reminders were sent. Does not commit."""
    due = session.execute(select(FollowUp.id, FollowUp.user, FollowUp.customer_id, FollowUp.next_follow_up_date)
                          .where(FollowUp.next_follow_up_date <= company_date(now), FollowUp.reminder_sent_at.is_(None))
                          .order_by(FollowUp.id).limit(500)).all()
    sent = 0
    for row in due:
        claimed = session.execute(update(FollowUp).where(FollowUp.id == row.id, FollowUp.reminder_sent_at.is_(None))
                                  .values(reminder_sent_at=now).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            continue
        customer = session.get(Customer, row.customer_id)
        who = customer.owner if customer is not None and customer.owner else row.user
        name = customer.name if customer is not None else f"customer {row.customer_id}"
        _notify(session, who, Message("Follow up with {name}", name=name),
                Message("Planned for {day}", day=row.next_follow_up_date.isoformat()),
                f"/customers/{row.customer_id}")
        sent += 1
    session.flush()
    return sent
