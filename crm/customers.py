"""Customers: create with a duplicate check, update with an audit trail, list in scope, share with colleagues,
loyalty points and satisfaction."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm import audit
from crm.access import Viewer, can_read_customer, customer_visible_clause, get_customer
from crm.common import iso
from crm.models import Customer, CustomerShare, FollowUp, PointsEntry, Ticket, VisitPlan
from crm.search import matches
from oa.models import User
from store.base import utcnow
from store.clock import company_date
from store.errors import Conflict, InvalidData, NotFound
from store.messages import Message

LEVELS = ("A", "B", "C", "D")  # A = key account ... D = small
FIELDS = ("name", "industry", "region", "level", "source", "phone")


def name_key(name: str) -> str:
    """The name as compared for duplicates: case-folded, whitespace collapsed."""
    return re.sub(r"\s+", " ", name or "").strip().casefold()


def phone_key(phone: str | None) -> str | None:
    """The phone as compared for duplicates: its digits only (None if it has none)."""
    digits = re.sub(r"\D", "", phone or "")
    return digits or None


def customer_dict(c: Customer) -> dict[str, Any]:
    """The JSON shape of a customer (DESIGN.md, plus bookkeeping fields)."""
    return {"id": c.id, "name": c.name, "industry": c.industry, "region": c.region, "level": c.level,
            "source": c.source, "phone": c.phone, "owner": c.owner, "points": c.points,
            "last_follow_up_at": iso(c.last_follow_up_at), "created_at": iso(c.created_at)}


def _check_duplicate(session: Session, viewer: Viewer, name: str, phone: str | None,
                     exclude_id: int | None = None) -> None:
    """409 if another customer has the same name or phone; reveals the record only to who may see it."""
    conds = [Customer.name_key == name_key(name)]
    pk = phone_key(phone)
    if pk:
        conds.append(Customer.phone_key == pk)
    query = select(Customer).where(or_(*conds))
    if exclude_id is not None:
        query = query.where(Customer.id != exclude_id)
    existing = session.scalars(query.limit(1)).first()
    if existing is None:
        return
    _duplicate(session, viewer, existing, name)


def _duplicate(session: Session, viewer: Viewer, existing: Customer, name: str) -> None:
    field = "name" if existing.name_key == name_key(name) else "phone"
    if can_read_customer(session, viewer, existing):
        where = f"owned by {existing.owner}" if existing.owner else "in the public pool"
        said = Message("already exists: customer #{id} {name}, owned by {user}", id=existing.id,
                       name=existing.name, user=existing.owner) if existing.owner else \
            Message("already exists: customer #{id} {name}, in the public pool", id=existing.id, name=existing.name)
        raise Conflict(f"customer already exists: #{existing.id} {existing.name} ({where})",
                       errors=[{"field": field, "message": said, "existing_id": existing.id,
                                "owner": existing.owner}])
    raise Conflict(Message("customer already exists (owned by another rep)"),
                   errors=[{"field": field, "message": Message("already exists (owned by another rep)")}])


def _validate(data: dict[str, Any]) -> None:
    errors = []
    if "name" in data and not name_key(data["name"]):
        errors.append({"field": "name", "message": "must not be blank"})
    if data.get("level") is not None and data["level"] not in LEVELS:
        errors.append({"field": "level", "message": f"must be one of {', '.join(LEVELS)}"})
    if errors:
        raise InvalidData("invalid customer", errors=errors)


def create_customer(session: Session, viewer: Viewer, data: dict[str, Any], *, owner: str | None = None,
                    now: datetime | None = None) -> Customer:
    """Create a customer owned by `owner` (the viewer by default); 409 on a duplicate name or phone."""
    data = {k: v for k, v in data.items() if k in FIELDS}
    if not data.get("name"):
        raise InvalidData("name is required", errors=[{"field": "name", "message": "required"}])
    _validate(data)
    data["name"] = data["name"].strip()
    _check_duplicate(session, viewer, data["name"], data.get("phone"))
    now = now or utcnow()
    owner = owner or viewer.username
    customer = Customer(**data, name_key=name_key(data["name"]), phone_key=phone_key(data.get("phone")),
                        owner=owner, assigned_at=now, created_by=viewer.username, created_at=now, updated_at=now,
                        points=0)
    session.add(customer)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # a concurrent insert of the same name won the race
        existing = session.scalar(select(Customer).where(Customer.name_key == name_key(data["name"])))
        if existing is None:
            raise
        _duplicate(session, viewer, existing, data["name"])
    audit.record(session, "customer", customer.id, viewer.username, "create",
                 {k: (None, v) for k, v in data.items() if v is not None} | {"owner": (None, owner)})
    return customer


def update_customer(session: Session, viewer: Viewer, customer_id: int, data: dict[str, Any]) -> Customer:
    """Change a customer's fields (edit access needed), recording each change in the audit trail."""
    customer = get_customer(session, viewer, customer_id, edit=True)
    data = {k: v for k, v in data.items() if k in FIELDS}
    _validate(data)
    if "name" in data:
        data["name"] = data["name"].strip()
    if "name" in data or "phone" in data:
        _check_duplicate(session, viewer, data.get("name", customer.name), data.get("phone", customer.phone),
                         exclude_id=customer.id)
    changes = audit.apply_changes(customer, data)
    customer.name_key, customer.phone_key = name_key(customer.name), phone_key(customer.phone)
    if changes:
        audit.record(session, "customer", customer.id, viewer.username, "update", changes)
    session.flush()
    return customer


def list_query(viewer: Viewer, *, pool: bool = False, filters: dict[str, Any] | None = None) -> Select:
    """Customers the viewer sees (or the public pool), filtered by owner/industry/region/level/q."""
    filters = filters or {}
    query = select(Customer)
    query = query.where(Customer.owner.is_(None), Customer.merged_into_id.is_(None)) if pool \
        else query.where(customer_visible_clause(viewer))
    for name in ("owner", "industry", "region", "level"):
        if filters.get(name):
            query = query.where(getattr(Customer, name) == filters[name])
    if filters.get("q"):
        query = query.where(matches(filters["q"]))
    return query.order_by(Customer.id)


def distinct_values(session: Session, column: Any) -> list[str]:
    """The distinct non-null values of an indexed column, by a loose index scan (a recursive query that seeks the
    next larger value in the index): one seek per distinct value, however many rows share them."""
    table = column.class_.__table__
    col = table.c[column.key]
    first = select(func.min(col).label("v"))
    walk = first.cte("walk", recursive=True)
    step = select(select(func.min(col)).where(col > walk.c.v).scalar_subquery().label("v")).where(
        walk.c.v.is_not(None))
    walk = walk.union_all(step)
    return [v for v in session.scalars(select(walk.c.v)) if v is not None]


def search_query(session: Session, viewer: Viewer, text: str | None, level: str | None = None,
                 industry: str | None = None, region: str | None = None) -> Select:
    """Customers in the viewer's scope whose name, phone or a contact's name contains `text` (the bigram index,
    crm.search), or whose industry or region does (the few distinct values matched first, then looked up by
    their index), optionally of one level, industry and region; in id order like the API's list."""
    query = list_query(viewer, filters={"level": level or None, "industry": industry or None,
                                        "region": region or None})
    text = (text or "").strip()
    if not text:
        return query
    folded = text.casefold()
    conds = [matches(text)]
    for column in (Customer.industry, Customer.region):
        values = [v for v in distinct_values(session, column) if folded in v.casefold()]
        if values:
            conds.append(column.in_(values))
    return query.where(or_(*conds))


def share_customer(session: Session, viewer: Viewer, customer_id: int, username: str, access: str) -> CustomerShare:
    """Share a customer with a colleague for `read` or `edit` (the owner's scope or an admin may share)."""
    customer = get_customer(session, viewer, customer_id, edit=True)
    if not viewer.owns_scope(customer.owner):
        from store.errors import Forbidden
        raise Forbidden("only the owner, their manager or an administrator may share a customer")
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        raise InvalidData(f"no user {username}", errors=[{"field": "user", "message": "unknown user"}])
    if username == customer.owner:
        raise InvalidData(Message("the owner already has access"),
                          errors=[{"field": "user", "message": Message("is the owner")}])
    share = session.get(CustomerShare, (customer.id, username))
    old = share.access if share else None
    if share is None:
        share = CustomerShare(customer_id=customer.id, username=username, shared_by=viewer.username)
        session.add(share)
    share.access = access
    audit.record(session, "customer", customer.id, viewer.username, "share", {f"share:{username}": (old, access)})
    session.flush()
    return share


def unshare_customer(session: Session, viewer: Viewer, customer_id: int, username: str) -> None:
    """Withdraw a share."""
    customer = get_customer(session, viewer, customer_id, edit=True)
    share = session.get(CustomerShare, (customer.id, username))
    if share is None:
        raise NotFound(f"customer {customer_id} is not shared with {username}")
    audit.record(session, "customer", customer.id, viewer.username, "unshare",
                 {f"share:{username}": (share.access, None)})
    session.delete(share)
    session.flush()


def shares_of(session: Session, customer: Customer) -> list[dict[str, Any]]:
    """Who a customer is shared with."""
    rows = session.scalars(select(CustomerShare).where(CustomerShare.customer_id == customer.id)
                           .order_by(CustomerShare.username))
    return [{"user": s.username, "access": s.access, "shared_by": s.shared_by} for s in rows]


VISIT_PLANS_SHOWN = 50  # the newest plans on the customer page; the audit trail keeps all


def visit_plans_of(session: Session, customer: Customer, limit: int = VISIT_PLANS_SHOWN) -> list[dict[str, Any]]:
    """The customer's visit plans, latest visit first (at most `limit`): date, purpose, rep, status and the
    instance that planned it. Status: "done" once the rep recorded a visit follow-up on or after that date,
    else "planned" (today or later) or "overdue"."""
    plans = session.scalars(select(VisitPlan).where(VisitPlan.customer_id == customer.id)
                            .order_by(VisitPlan.visit_date.desc(), VisitPlan.id.desc()).limit(limit)).all()
    visits: dict[str, datetime] = dict(session.execute(
        select(FollowUp.user, func.max(FollowUp.created_at)).where(
            FollowUp.customer_id == customer.id, FollowUp.type == "visit").group_by(FollowUp.user)).all())
    today = company_date()

    def status(plan: VisitPlan) -> str:
        last = visits.get(plan.user)
        if last is not None and last.date() >= plan.visit_date:
            return "done"
        return "planned" if plan.visit_date >= today else "overdue"
    return [{"id": p.id, "visit_date": p.visit_date.isoformat(), "purpose": p.purpose, "user": p.user,
             "status": status(p), "instance_id": p.instance_id} for p in plans]


# loyalty -------------------------------------------------------------------------------------------------------

POINTS_PER_AMOUNT = 100  # 1 point per 100 of money paid


def add_points(session: Session, customer_id: int, delta: int, reason: str, user: str | None,
               payment_id: int | None = None) -> PointsEntry:
    """Add (or, negative, take) points with a conditional UPDATE so the balance never goes below zero."""
    result = session.execute(update(Customer).where(Customer.id == customer_id, Customer.points + delta >= 0)
                             .values(points=Customer.points + delta).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("not enough points", errors=[{"field": "points", "message": "exceeds the balance"}])
    entry = PointsEntry(customer_id=customer_id, delta=delta, reason=reason[:200], payment_id=payment_id,
                        created_by=user, created_at=utcnow())
    session.add(entry)
    session.flush()
    customer = session.get(Customer, customer_id)
    if customer is not None:
        session.refresh(customer, ["points"])
    return entry


def redeem_points(session: Session, viewer: Viewer, customer_id: int, points: int, reward: str) -> PointsEntry:
    """Redeem points for a reward; 409 if the balance is too small."""
    customer = get_customer(session, viewer, customer_id, edit=True)
    entry = add_points(session, customer.id, -points, f"redeemed: {reward}", viewer.username)
    audit.record(session, "customer", customer.id, viewer.username, "redeem", {"points": (points, reward)})
    return entry


def points_ledger(session: Session, viewer: Viewer, customer_id: int) -> dict[str, Any]:
    """The balance and every ledger line, newest first."""
    customer = get_customer(session, viewer, customer_id)
    rows = session.scalars(select(PointsEntry).where(PointsEntry.customer_id == customer.id)
                           .order_by(PointsEntry.id.desc()))
    return {"customer_id": customer.id, "balance": customer.points,
            "entries": [{"id": e.id, "delta": e.delta, "reason": e.reason, "payment_id": e.payment_id,
                         "created_by": e.created_by, "created_at": iso(e.created_at)} for e in rows]}


def satisfaction(session: Session, viewer: Viewer, customer_id: int) -> dict[str, Any]:
    """Satisfaction scores (1-5) from follow-ups and closed tickets, with their average; a ticket whose score its
    follow-up already carries (the ticket_escalation flow writes both) counts once."""
    customer = get_customer(session, viewer, customer_id)
    fu = session.scalars(select(FollowUp.satisfaction).where(FollowUp.customer_id == customer.id,
                                                             FollowUp.satisfaction.is_not(None))).all()
    carried = select(FollowUp.ticket_id).where(FollowUp.ticket_id.is_not(None), FollowUp.satisfaction.is_not(None))
    tk = session.scalars(select(Ticket.satisfaction).where(and_(Ticket.customer_id == customer.id,
                                                                Ticket.status == "closed",
                                                                Ticket.satisfaction.is_not(None),
                                                                Ticket.id.not_in(carried)))).all()
    scores = list(fu) + list(tk)
    return {"customer_id": customer.id, "count": len(scores), "from_follow_ups": len(fu), "from_tickets": len(tk),
            "average": round(sum(scores) / len(scores), 2) if scores else None}


def count_owned(session: Session, username: str) -> int:
    """How many customers `username` owns."""
    return session.scalar(select(func.count()).select_from(Customer).where(Customer.owner == username)) or 0
