"""The public pool (公海): customers nobody followed up for N days return to it; reps claim from it up to a cap."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session, scoped_session

from crm import audit
from crm.access import Viewer
from crm.customers import count_owned
from crm.models import Customer
from crm.settings import get_setting
from oa.models import User
from store.base import utcnow
from store.errors import Conflict, NotFound


def release_stale_customers(session: Session, now: datetime) -> int:
    """Return to the pool every owned customer whose latest activity (last follow-up or assignment to its
    owner, whichever is later) is older than the `pool_release_days` setting.
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
            released += 1
    session.flush()
    session.expire_all()
    return released


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
    """Take a customer from the pool: 404 if unknown, 409 if already owned or the rep is at the claim cap.

    The rep's claims are serialised (see `_lock_claimant`), so concurrent claims never exceed the cap.
    On SQLite this first commits what the session holds (the caller's transaction must have no pending work)."""
    _lock_claimant(session, viewer.username)
    customer = session.get(Customer, customer_id, populate_existing=True)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    if customer.owner is not None:
        raise Conflict(f"customer {customer_id} is already owned" if viewer.owns_scope(customer.owner)
                       else f"customer {customer_id} is not in the public pool")
    cap = get_setting(session, "claim_cap")
    if count_owned(session, viewer.username) >= cap:
        raise Conflict(f"you already own {cap} customers, the most one rep may hold",
                       errors=[{"field": "claim_cap", "message": f"limit {cap} reached"}])
    now = now or utcnow()
    done = session.execute(update(Customer).where(Customer.id == customer_id, Customer.owner.is_(None))
                           .values(owner=viewer.username, assigned_at=now)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(f"customer {customer_id} was just claimed by someone else")
    audit.record(session, "customer", customer_id, viewer.username, "claim", {"owner": (None, viewer.username)})
    session.flush()
    session.refresh(customer)
    return customer
