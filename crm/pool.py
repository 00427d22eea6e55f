"""The public pool (公海): customers nobody followed up for N days return to it; reps claim from it up to a cap.

A customer goes to the pool with its open opportunities (their owner is cleared, each change in the operation log),
as Chinese CRMs do, so the rep who let it go no longer sees those deals as theirs; won and lost ones keep their
owner (the sales history stays true). Whoever claims the customer takes its pooled open opportunities over."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, scoped_session

from crm import audit
from crm.access import Viewer, can_read_customer
from crm.customers import count_owned
from crm.models import Customer, Opportunity
from crm.settings import get_setting
from oa.models import User
from store.base import utcnow
from store.errors import Conflict, NotFound
from store.messages import Message


def release_stale_customers(session: Session, now: datetime) -> int:
    """Return to the pool (with the open opportunities its owner held) every owned customer whose latest activity
    (last follow-up or assignment to its owner, whichever is later) is older than the `pool_release_days` setting.
    Each release is a conditional UPDATE on the old owner, so concurrent schedulers release a customer once.
    Returns how many were released. Does not commit."""
    cutoff = now - timedelta(days=get_setting(session, "pool_release_days"))
    assigned = func.coalesce(Customer.assigned_at, Customer.created_at)
    activity = case((Customer.last_follow_up_at > assigned, Customer.last_follow_up_at), else_=assigned)
    stale = session.execute(select(Customer.id, Customer.owner).where(Customer.owner.is_not(None), activity < cutoff,
                                                                       Customer.merged_into_id.is_(None))
                            .order_by(Customer.id).limit(1000)).all()
    released = 0
    for row in stale:
        done = session.execute(update(Customer).where(Customer.id == row.id, Customer.owner == row.owner)
                               .values(owner=None, released_at=now, assigned_at=None)
                               .execution_options(synchronize_session=False))
        if done.rowcount == 1:
            audit.record(session, "customer", row.id, None, "release", {"owner": (row.owner, None)})
            release_opportunities(session, row.id, row.owner, None)
            released += 1
    session.flush()
    session.expire_all()
    return released


def release_opportunities(session: Session, customer_id: int, owner: str, user: str | None) -> int:
    """The customer's open opportunities `owner` held go to the pool with it (owner cleared), each audited as a
    release by `user` (None: the scheduler); how many. Won and lost ones keep their owner. No commit."""
    opps = session.scalars(select(Opportunity).where(Opportunity.customer_id == customer_id,
                                                     Opportunity.status == "open", Opportunity.owner == owner)
                           .order_by(Opportunity.id)).all()
    for opp in opps:
        opp.owner = None
        audit.record(session, "opportunity", opp.id, user, "release", {"owner": (owner, None)})
    session.flush()
    return len(opps)


def claim_opportunities(session: Session, customer_id: int, username: str) -> int:
    """The claimer of a customer takes over its open opportunities that sit in the pool (no owner), each audited
    as a claim; how many. No commit."""
    opps = session.scalars(select(Opportunity).where(Opportunity.customer_id == customer_id,
                                                     Opportunity.status == "open", Opportunity.owner.is_(None))
                           .order_by(Opportunity.id)).all()
    for opp in opps:
        opp.owner = username
        audit.record(session, "opportunity", opp.id, username, "claim", {"owner": (None, username)})
    session.flush()
    return len(opps)


def _lock_claimant(session: Session, username: str) -> None:
    """Serialise one rep's claims before counting what they own. PostgreSQL: lock the rep's user row
    (SELECT … FOR UPDATE; the count that follows sees every claim committed before the lock was granted).
    SQLite: start a write transaction (BEGIN IMMEDIATE), which serialises all writers; a read transaction
    cannot be upgraded safely, so one already open is committed first."""
    if session.get_bind().dialect.name == "sqlite":
        real = session() if isinstance(session, scoped_session) else session
        if real.in_transaction():
            real.commit()
        real.connection(execution_options={"oaflow_write": True})
        return
    session.execute(select(User.id).where(User.username == username).with_for_update())


def claim_customer(session: Session, viewer: Viewer, customer_id: int, now: datetime | None = None) -> Customer:
    """Take a customer from the pool, with its pooled open opportunities: 404 if unknown, 409 if already owned or
    the rep is at the claim cap.

    The rep's claims are serialised (see `_lock_claimant`), so concurrent claims never exceed the cap.
    On SQLite this first commits what the session holds (the caller's transaction must have no pending work)."""
    _lock_claimant(session, viewer.username)
    customer = session.get(Customer, customer_id, populate_existing=True)
    if customer is None or (customer.owner is not None and not can_read_customer(session, viewer, customer)):
        raise NotFound(f"no customer {customer_id}")  # someone else's customer the caller cannot see: as if missing
    if customer.owner is not None:
        raise Conflict(Message("customer {id} is already owned", id=customer_id) if viewer.owns_scope(customer.owner)
                       else Message("customer {id} is not in the public pool", id=customer_id))
    cap = get_setting(session, "claim_cap")
    if count_owned(session, viewer.username) >= cap:
        raise Conflict(Message("you already own {cap} customers, the most one rep may hold", cap=cap),
                       errors=[{"field": "claim_cap", "message": Message("limit {cap} reached", cap=cap)}])
    now = now or utcnow()
    done = session.execute(update(Customer).where(Customer.id == customer_id, Customer.owner.is_(None))
                           .values(owner=viewer.username, assigned_at=now)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(Message("customer {id} was just claimed by someone else", id=customer_id))
    audit.record(session, "customer", customer_id, viewer.username, "claim", {"owner": (None, viewer.username)})
    claim_opportunities(session, customer_id, viewer.username)
    session.flush()
    session.refresh(customer)
    return customer
