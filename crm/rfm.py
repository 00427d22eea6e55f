"""The RFM summary (crm_customer_rfm) behind the segments report, kept in the database, never in Python loops.

A customer's transactions are its deals won (closed_at), contracts signed (signed_date) and payments received
(paid_on); one dated after `today` is not a transaction yet. Per customer the summary holds the latest
transaction date and, for the window of rfm_window_days ending `as_of`, the number of transactions and the
payments received. It is kept two ways:
- in the same transaction as the writes that change it: a flush that touches an opportunity, contract or payment
  recomputes the rows of the customers concerned (`track`, an ORM event);
- all of it by the scheduler once a day (api/scheduler.py), since the window moves with the date; the report
  shows that refresh time as `as_of`. Bulk loads through Core call `refresh_all` themselves.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, case, delete, event, func, insert, literal, select, text, type_coerce, union_all
from sqlalchemy.orm import Session

from crm.models import Contract, Customer, CustomerRfm, Opportunity, Payment
from store.base import utcnow
from store.clock import company_date

_PENDING = "crm.rfm.pending"
_CHUNK = 500


def _transactions(today: date, ids: list[int] | None) -> Any:
    """(customer_id, day, amount) of every transaction dated up to `today` (of `ids` only, if given)."""
    day = type_coerce(func.date(Opportunity.closed_at), Date)
    won = select(Opportunity.customer_id.label("cid"), day.label("day"), literal(0).label("amount")).where(
        Opportunity.status == "won", Opportunity.closed_at.is_not(None),
        Opportunity.closed_at < datetime.combine(today + timedelta(days=1), datetime.min.time()))
    signed = select(Contract.customer_id, Contract.signed_date, literal(0)).where(
        Contract.signed_date.is_not(None), Contract.signed_date <= today)
    paid = select(Contract.customer_id, Payment.paid_on, Payment.amount).join(
        Contract, Contract.id == Payment.contract_id).where(Payment.paid_on <= today)
    if ids is not None:
        won = won.where(Opportunity.customer_id.in_(ids))
        signed = signed.where(Contract.customer_id.in_(ids))
        paid = paid.where(Contract.customer_id.in_(ids))
    return union_all(won, signed, paid).subquery("tx")


def _write(session: Session, today: date, window_days: int, ids: list[int] | None) -> None:
    """Recompute the summary rows of `ids` (or of every customer) as of `today`, with one INSERT ... SELECT."""
    tx = _transactions(today, ids)
    start = today - timedelta(days=window_days)
    in_window = tx.c.day >= start
    summary = select(tx.c.cid, func.max(tx.c.day), func.coalesce(func.sum(case((in_window, 1), else_=0)), 0),
                     func.coalesce(func.sum(case((in_window, tx.c.amount), else_=0)), 0),
                     literal(today, Date), literal(utcnow())).group_by(tx.c.cid)
    conn = session.connection()  # Core statements: safe inside a flush event, no ORM bookkeeping
    if conn.dialect.name == "postgresql":
        # two writers for one customer (or a write during the daily refresh) take turns, so neither inserts a
        # row the other just inserted: lock the customers (in id order; FOR NO KEY UPDATE, which does not wait
        # on the key-share locks that inserting a contact or contract takes), or the whole summary for a refresh
        if ids is None:
            conn.execute(text("LOCK TABLE crm_customer_rfm IN EXCLUSIVE MODE"))
        else:
            conn.execute(select(Customer.id).where(Customer.id.in_(ids)).order_by(Customer.id)
                         .with_for_update(key_share=True))
    conn.execute(delete(CustomerRfm).where(CustomerRfm.customer_id.in_(ids)) if ids is not None
                 else delete(CustomerRfm))
    conn.execute(insert(CustomerRfm).from_select(
        ["customer_id", "last_tx_on", "frequency", "monetary", "as_of", "refreshed_at"], summary))


def _window_days(session: Session) -> int:
    from crm.settings import all_settings
    return int(all_settings(session)["rfm_window_days"])


def refresh_customers(session: Session, ids: set[int], now: datetime | None = None) -> None:
    """Recompute the summary of these customers (in the caller's transaction)."""
    if not ids:
        return
    today = company_date(now)
    window = _window_days(session)
    ordered = sorted(ids)
    for i in range(0, len(ordered), _CHUNK):
        _write(session, today, window, ordered[i:i + _CHUNK])


def refresh_all(session: Session, now: datetime | None = None, *, commit: bool = True) -> int:
    """Recompute every customer's summary as of `now` (the scheduler's daily job, after a bulk load, or when
    the window setting changes); commits unless told not to. Returns the number of summary rows."""
    _write(session, company_date(now), _window_days(session), None)
    if commit:
        session.commit()
    return session.scalar(select(func.count()).select_from(CustomerRfm)) or 0


def refresh_if_stale(session: Session, now: datetime | None = None) -> int:
    """The scheduler's job: refresh everything once the summary is older than today (0 if it was current)."""
    now = now or utcnow()
    oldest = session.scalar(select(func.min(CustomerRfm.as_of)))
    if oldest is not None and oldest >= company_date(now):
        return 0
    return refresh_all(session, now)


def any_transaction(session: Session) -> bool:
    """True if any deal was won, contract signed or payment received (three index probes)."""
    return any(session.scalar(q.limit(1)) is not None for q in (
        select(Opportunity.id).where(Opportunity.status == "won"),
        select(Contract.id).where(Contract.signed_date.is_not(None)), select(Payment.id)))


def as_of(session: Session) -> datetime | None:
    """When the oldest part of the summary was computed (None if it is empty)."""
    return session.scalar(select(func.min(CustomerRfm.refreshed_at)))


@event.listens_for(Session, "after_flush")
def _track(session: Session, _ctx: Any) -> None:
    """Recompute the summary of the customers whose deals, contracts or payments this flush changed."""
    ids: set[int] = set()
    contract_ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Customer) and obj in session.deleted:
            ids.add(obj.id)  # its summary row goes with it
        elif isinstance(obj, Opportunity | Contract) and obj.customer_id is not None:
            ids.add(obj.customer_id)
        elif isinstance(obj, Payment) and obj.contract_id is not None:
            contract_ids.add(obj.contract_id)
    if contract_ids:
        ids |= set(session.scalars(select(Contract.customer_id).where(Contract.id.in_(contract_ids))))
    if ids:
        refresh_customers(session, ids)


def _customers_of(model: type, where: Any) -> Any:
    """SELECT of the customer ids of the `model` rows a statement's WHERE clause picks."""
    if model is Payment:
        query = select(Contract.customer_id).join(Payment, Payment.contract_id == Contract.id)
    else:
        query = select(model.customer_id)
    return query.where(where) if where is not None else query


@event.listens_for(Session, "do_orm_execute")
def _track_statements(state: Any) -> Any:
    """The same for UPDATE/DELETE statements on deals, contracts and payments run through a session
    (update(Opportunity).where(...)): the customers they pick are recomputed after the statement."""
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return None
    model = state.bind_mapper.class_
    if model not in (Opportunity, Contract, Payment):
        return None
    where = state.statement.whereclause
    ids = set(state.session.scalars(_customers_of(model, where))) if where is not None else None
    result = state.invoke_statement()
    if ids is None:
        refresh_all(state.session, commit=False)
    else:
        refresh_customers(state.session, ids)
    return result


def change_settings(session: Session, values: dict[str, int]) -> dict[str, int]:
    """Change CRM settings (crm.settings.set_settings); a new `rfm_window_days` recomputes the RFM summary in
    the same transaction, so segments never mix two windows."""
    from crm.settings import set_settings
    changed = set_settings(session, values)
    if "rfm_window_days" in values:
        refresh_all(session, commit=False)
    return changed
