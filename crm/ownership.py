"""Owner operations on customers, all audited: transfer a customer (with its open opportunities and pending
follow-ups) to another rep, release it to the public pool by hand, hand over everything a departing employee
owns in one action, and merge two duplicate customers (the merged one then points at the one kept)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm import audit
from crm.access import Viewer, get_customer
from crm.customers import add_points
from crm.models import (
    Contact,
    Contract,
    Customer,
    CustomerShare,
    FollowUp,
    Invoice,
    Opportunity,
    Quote,
    SalesOrder,
    Ticket,
    VisitPlan,
)
from crm.pool import release_opportunities
from oa.models import User
from oa.org import is_service_account
from store.base import utcnow
from store.errors import Conflict, Forbidden, InvalidData
from store.messages import Message

# orders in approval (pending, rejected) stay with their submitter: the running flow writes under its initiator's
# scope, so they move once their flow has ended
OPEN_ORDER_STATUSES = ("draft",)


SALES_GROUP = "sales"


def _sales_rep(session: Session, username: str) -> str:
    """The user a customer is transferred to: an active employee in the sales group (an integration account,
    an inactive user or someone outside sales would strand the customer), else 422 naming `to`."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or is_service_account(user.roles) \
            or not any(g.name == SALES_GROUP for g in user.groups):
        raise InvalidData(Message("{user} cannot own customers", user=username),
                          errors=[{"field": "to", "message": Message("not an active sales rep")}])
    return user.username


def _sales_successor(session: Session, viewer: Viewer, username: str) -> str:
    """The user a hand-over goes to: active, in the sales group, and the manager or someone in their team."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or is_service_account(user.roles) \
            or not any(g.name == SALES_GROUP for g in user.groups) or not viewer.owns_scope(user.username):
        raise InvalidData(Message("{user} cannot take over customers", user=username),
                          errors=[{"field": "to", "message": Message("not an active sales rep in your team")}])
    return user.username


def _owner_scope(viewer: Viewer, customer: Customer) -> None:
    """Only the owner, their managers or an administrator move a customer (an edit share does not)."""
    if not viewer.owns_scope(customer.owner):
        raise Forbidden(Message("only the owner of customer {id}, their manager or an administrator may do this",
                                id=customer.id))


def _pending_follow_ups(customer_ids: Any, old: str) -> Any:
    return update(FollowUp).where(FollowUp.customer_id.in_(customer_ids), FollowUp.user == old,
                                  FollowUp.next_follow_up_date.is_not(None), FollowUp.reminder_sent_at.is_(None))


def _move(session: Session, customer: Customer, old: str | None, new: str, user: str, now: datetime) -> dict[str, int]:
    """Give the customer and what hangs off it (owned by `old`) to `new`; counts of what moved."""
    customer.owner, customer.assigned_at = new, now
    audit.record(session, "customer", customer.id, user, "transfer", {"owner": (old, new)})
    held = Opportunity.owner.is_(None) if old is None else Opportunity.owner == old  # a pool customer's: pooled
    opps = session.scalars(select(Opportunity).where(Opportunity.customer_id == customer.id,
                                                     Opportunity.status == "open", held)).all()
    for opp in opps:
        opp.owner = new
        audit.record(session, "opportunity", opp.id, user, "transfer", {"owner": (old, new)})
    follow = session.execute(_pending_follow_ups([customer.id], old).values(user=new)
                             .execution_options(synchronize_session=False)).rowcount if old else 0
    session.flush()
    return {"opportunities": len(opps), "follow_ups": follow}


def transfer_customer(session: Session, viewer: Viewer, customer_id: int, to: str) -> dict[str, Any]:
    """Transfer a customer with its open opportunities and pending follow-ups to `to` (422 naming `to` unless
    they are an active sales rep, 409 if they own it already)."""
    customer = get_customer(session, viewer, customer_id, edit=True)
    _owner_scope(viewer, customer)
    new = _sales_rep(session, to)
    if customer.owner == new:
        raise Conflict(Message("{user} already owns customer {id}", user=new, id=customer.id),
                       errors=[{"field": "to", "message": Message("same owner")}])
    moved = _move(session, customer, customer.owner, new, viewer.username, utcnow())
    return {"customer_id": customer.id, "owner": new, **moved}


def release_customer(session: Session, viewer: Viewer, customer_id: int, reason: str | None = None) -> Customer:
    """Return a customer to the public pool by hand (409 if it is there already), with the open opportunities its
    owner held (crm.pool.release_opportunities); a given reason is kept in the audit trail beside the owner
    change."""
    customer = get_customer(session, viewer, customer_id)
    if customer.owner is None:
        raise Conflict(Message("customer {id} is already in the public pool", id=customer.id))
    _owner_scope(viewer, customer)
    now, old = utcnow(), customer.owner
    done = session.execute(update(Customer).where(Customer.id == customer.id, Customer.owner == old)
                           .values(owner=None, released_at=now, assigned_at=None)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(Message("customer {id} changed owner meanwhile; reload", id=customer.id))
    changes: dict = {"owner": (old, None)}
    if reason:
        changes["reason"] = (None, reason)
    audit.record(session, "customer", customer.id, viewer.username, "release", changes)
    release_opportunities(session, customer.id, old, viewer.username)
    session.flush()
    session.refresh(customer)
    return customer


def hand_over(session: Session, viewer: Viewer, old: str, new: str) -> dict[str, int]:
    """Everything `old` owns goes to `new` in one step: the customers `old` owns, with their pending follow-ups and,
    on those customers, `old`'s open opportunities, draft quotes and orders, and contracts not closed (records on
    customers `old` no longer owns stay with the customer's owner). Administrators, or a manager of `old`; `new`
    is an active member of the sales group in the manager's own scope (an administrator: any), else 422 naming
    `to`."""
    if not (viewer.is_admin or old in viewer.team):
        raise Forbidden("only an administrator or a manager of the employee hands their work over")
    if session.scalar(select(User.id).where(User.username == old)) is None:
        raise InvalidData(f"no user {old}", errors=[{"field": "from", "message": "unknown user"}])
    if old == new:
        raise InvalidData("from and to are the same", errors=[{"field": "to", "message": "same as from"}])
    new = _sales_successor(session, viewer, new)
    now, counts = utcnow(), {}
    customers = session.scalars(select(Customer).where(Customer.owner == old).order_by(Customer.id)
                                .with_for_update()).all()
    for customer in customers:
        customer.owner, customer.assigned_at = new, now
        audit.record(session, "customer", customer.id, viewer.username, "handover", {"owner": (old, new)})
    counts["customers"] = len(customers)
    counts["follow_ups"] = session.execute(_pending_follow_ups([c.id for c in customers], old).values(user=new)
                                           .execution_options(synchronize_session=False)).rowcount
    for entity, plural, model, condition in (
            ("opportunity", "opportunities", Opportunity, Opportunity.status == "open"),
            ("quote", "quotes", Quote, Quote.status == "draft"),
            ("order", "orders", SalesOrder, SalesOrder.status.in_(OPEN_ORDER_STATUSES)),
            ("contract", "contracts", Contract, Contract.status != "closed")):
        rows = session.scalars(select(model).where(model.owner == old, condition,
                                                   model.customer_id.in_([c.id for c in customers]))
                               .order_by(model.id)).all()  # only what hangs off the leaver's own customers
        for row in rows:
            row.owner = new
            audit.record(session, entity, row.id, viewer.username, "handover", {"owner": (old, new)})
        counts[plural] = len(rows)
    session.flush()
    return counts


MOVED_BY_MERGE = (Contact, FollowUp, Opportunity, SalesOrder, Quote, Contract, Ticket, VisitPlan, Invoice)


def merge_customers(session: Session, viewer: Viewer, keep_id: int, merge_id: int) -> dict[str, Any]:
    """Merge customer `merge` into `keep`: contacts, follow-ups, opportunities, orders, quotes, contracts,
    tickets, visit plans, invoices, shares and loyalty points move; `merge` is left pointing at `keep`
    (merged_into_id) and drops out of every list. The viewer must own both (or manage their owners, or
    administer): merging moves a customer's title, so an edit share is no licence (403)."""
    if keep_id == merge_id:
        raise InvalidData(Message("a customer cannot be merged into itself"),
                          errors=[{"field": "merge", "message": Message("is the same customer")}])
    keep = get_customer(session, viewer, keep_id, edit=True, field="keep")
    gone = get_customer(session, viewer, merge_id, edit=True, field="merge")
    for row in (keep, gone):
        _owner_scope(viewer, row)
    for row in (keep, gone):
        if row.merged_into_id is not None:
            raise Conflict(f"customer {row.id} was already merged into {row.merged_into_id}")
    moved: dict[str, int] = {}
    for model in MOVED_BY_MERGE:
        moved[model.__tablename__.removeprefix("crm_")] = session.execute(
            update(model).where(model.customer_id == gone.id).values(customer_id=keep.id)
            .execution_options(synchronize_session=False)).rowcount
    for share in session.scalars(select(CustomerShare).where(CustomerShare.customer_id == gone.id)).all():
        if session.get(CustomerShare, (keep.id, share.username)) is None and share.username != keep.owner:
            session.add(CustomerShare(customer_id=keep.id, username=share.username, access=share.access,
                                      shared_by=viewer.username, created_at=utcnow()))
        session.delete(share)
    if gone.points:
        points = gone.points
        add_points(session, gone.id, -points, f"merged into customer {keep.id}", viewer.username)
        add_points(session, keep.id, points, f"merged from customer {gone.id}", viewer.username)
    gone.merged_into_id = keep.id
    audit.record(session, "customer", gone.id, viewer.username, "merge", {"merged_into_id": (None, keep.id)})
    audit.record(session, "customer", keep.id, viewer.username, "merge",
                 {"merged_from": (None, gone.id)} | {k: (0, v) for k, v in moved.items() if v})
    session.flush()
    session.expire_all()
    return {"keep": keep.id, "merged": gone.id, "moved": moved}
