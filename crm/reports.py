"""CRM reports, each limited to the viewer's data scope (own records, the team below them; admins all).

Every report aggregates in the database (GROUP BY over indexed columns; never rows loaded into Python) at
request time, except the RFM figures, read from the summary crm.rfm keeps (`as_of` in the answer):

- pipeline: per stage, the number and total amount of opportunities (open stages, then won and lost);
- forecast: per expected close month, the open opportunities' count, amount and weighted amount
  (sum of amount x probability / 100);
- sales by rep: per rep, the count of opportunities won (closed_at) in the period and the won revenue (their
  amounts plus the totals of orders confirmed in the period without an opportunity, as crm.sales_reports counts
  it), the payments received (paid_on) in the period on contracts they own, their target for the period and
  attainment (won revenue / target, %);
- customer distribution: customer counts by industry, region and level;
- segments (RFM), per owned customer, from its transactions only - deals won (closed_at), contracts signed
  (signed_date) and payments received (paid_on); never from when a record was created or typed in:
  R = days since the latest transaction, F = transactions in the window, M = payments received in the window.
  Thresholds are CRM settings (crm.settings: rfm_window_days 365, rfm_lost_days 180, rfm_high_value_days 90,
  rfm_high_value_amount 100,000, rfm_at_risk_days 60):
    * prospect    - no transaction ever (R is null);
    * lost        - no transaction for more than rfm_lost_days;
    * high_value  - M >= rfm_high_value_amount and a transaction within rfm_high_value_days;
    * at_risk     - no transaction for more than rfm_at_risk_days;
    * potential   - everything else (bought recently, spending little so far).
  The rules are checked in that order;
- attendance vs sales: per rep, the month's attendance (present, late, absent, leave days) from
  oa.attendance beside follow-ups, wins and payments of the same month.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select, text
from sqlalchemy.orm import Session

from crm.access import Viewer
from crm.common import num, parse_period
from crm.forecast_summary import ForecastMonth
from crm.models import Contract, Customer, CustomerRfm, FollowUp, Opportunity, Payment, SalesOrder
from crm.opportunities import STAGES
from crm.rfm import any_transaction, as_of, refresh_all
from crm.sales_reports import orderless_orders
from crm.targets import rep_targets
from store.clock import company_date

SEGMENTS = ("high_value", "potential", "at_risk", "lost", "prospect")
SEGMENT_PAGE = 1000  # customers listed per page of the segments report (the counts cover all)


def pipeline(session: Session, viewer: Viewer) -> list[dict[str, Any]]:
    """Count and amount of opportunities per stage."""
    rows = session.execute(select(Opportunity.stage, func.count(), func.coalesce(func.sum(Opportunity.amount), 0))
                           .where(viewer.owner_clause(Opportunity.owner)).group_by(Opportunity.stage)).all()
    found = {r[0]: (r[1], r[2]) for r in rows}
    return [{"stage": stage, "probability": STAGES[stage], "count": found.get(stage, (0, 0))[0],
             "amount": num(found.get(stage, (0, 0))[1])} for stage in STAGES]


def forecast(session: Session, viewer: Viewer) -> list[dict[str, Any]]:
    """Open opportunities by expected close month, with the probability-weighted amount: read from the forecast
    summary (crm.forecast_summary, kept in the writes' transaction), a few rows per rep in scope. Sums are
    exact: whole cents and cent-percents."""
    fm = ForecastMonth
    rows = session.execute(select(fm.month, func.sum(fm.count), func.sum(fm.amount_cents),
                                  func.sum(fm.weighted_cent_percents))
                           .where(viewer.owner_clause(fm.owner)).group_by(fm.month).order_by(fm.month)).all()
    return [{"month": month, "count": int(n), "amount": num(Decimal(int(cents)) / 100),
             "weighted_amount": num(Decimal(int(weighted)) / 10000)} for month, n, cents, weighted in rows]


def _reps(session: Session, viewer: Viewer) -> list[str]:
    if not viewer.is_admin:
        return sorted(viewer.owners)
    if session.get_bind().dialect.name != "postgresql":  # SQLite reads DISTINCT off the owner index itself
        owners = {o for o in session.scalars(select(Opportunity.owner).distinct()) if o}  # pooled deals: none
        owners |= {o for o in session.scalars(select(Customer.owner).distinct()) if o}
        return sorted(owners)
    owners = set(session.scalars(text(_DISTINCT_OWNERS.format(table="crm_opportunity"))))
    owners |= set(session.scalars(text(_DISTINCT_OWNERS.format(table="crm_customer"))))
    return sorted(owners)


# PostgreSQL: the distinct owners by walking the owner index, one probe per owner (a "loose index scan", which
# it does not do by itself for SELECT DISTINCT)
_DISTINCT_OWNERS = """WITH RECURSIVE walk(owner) AS (
    SELECT min(owner) FROM {table}
    UNION ALL SELECT (SELECT min(owner) FROM {table} WHERE owner > walk.owner) FROM walk WHERE walk.owner IS NOT NULL
) SELECT owner FROM walk WHERE owner IS NOT NULL"""


def sales_by_rep(session: Session, viewer: Viewer, period: str,
                 reps: list[str] | None = None) -> list[dict[str, Any]]:
    """Won amount and payments received per rep in the period, against the rep's target (`reps`: the viewer's
    reps if the caller has them already - for an admin, two walks of the owner indexes)."""
    start, end = parse_period(period)
    start_dt, end_dt = datetime.combine(start, datetime.min.time()), datetime.combine(end, datetime.min.time())
    reps = _reps(session, viewer) if reps is None else reps
    won = {r[0]: (r[1], r[2]) for r in session.execute(
        select(Opportunity.owner, func.count(), func.coalesce(func.sum(Opportunity.amount), 0))
        .where(Opportunity.status == "won", Opportunity.closed_at >= start_dt, Opportunity.closed_at < end_dt,
               Opportunity.owner.in_(reps)).group_by(Opportunity.owner))}
    orders = dict(session.execute(  # confirmed without a deal: won revenue too
        select(SalesOrder.owner, func.sum(SalesOrder.total))
        .where(orderless_orders(SalesOrder.owner.in_(reps), start_dt, end_dt)).group_by(SalesOrder.owner)).all())
    paid = {r[0]: r[1] for r in session.execute(
        select(Contract.owner, func.coalesce(func.sum(Payment.amount), 0)).join(Contract,
                                                                                Contract.id == Payment.contract_id)
        .where(Payment.paid_on >= start, Payment.paid_on < end, Contract.owner.in_(reps)).group_by(Contract.owner))}
    out = []
    targets = rep_targets(session, period, reps)
    for rep in reps:
        count, amount = won.get(rep, (0, 0))
        amount = Decimal(str(amount)) + Decimal(str(orders.get(rep) or 0))
        target = targets[rep]
        attainment = round(float(Decimal(str(amount)) / target * 100), 1) if target else None
        out.append({"rep": rep, "period": period, "won_count": count, "won_amount": num(amount),
                    "collected": num(paid.get(rep, 0)), "target": num(target) if target is not None else None,
                    "attainment_pct": attainment})
    return out


def customer_distribution(session: Session, viewer: Viewer) -> dict[str, list[dict[str, Any]]]:
    """Customer counts by industry, region and level: one GROUP BY over the three columns (a few hundred
    groups at most), rolled up per dimension."""
    dims = ("industry", "region", "level")
    rows = session.execute(select(Customer.industry, Customer.region, Customer.level, func.count())
                           .where(viewer.owner_clause(Customer.owner), Customer.owner.is_not(None))
                           .group_by(Customer.industry, Customer.region, Customer.level)).all()
    out = {}
    for i, dim in enumerate(dims):
        counts: dict[str, int] = {}
        for row in rows:
            key = row[i] or "(none)"
            counts[key] = counts.get(key, 0) + row[3]
        out[dim] = sorted(({"value": k, "count": n} for k, n in counts.items()),
                          key=lambda d: (-d["count"], d["value"]))
    return out


def segment_of(recency_days: int | None, monetary: Decimal, rules: dict[str, int]) -> str:
    """The segment of one customer by the rules in the module docstring (`rules`: the rfm_* settings)."""
    if recency_days is None:
        return "prospect"
    if recency_days > rules["rfm_lost_days"]:
        return "lost"
    if monetary >= rules["rfm_high_value_amount"] and recency_days <= rules["rfm_high_value_days"]:
        return "high_value"
    if recency_days > rules["rfm_at_risk_days"]:
        return "at_risk"
    return "potential"


def _segment_case(today: date, rules: dict[str, int]) -> Any:
    """SQL CASE giving the segment of a customer from its summary row (the rules of segment_of)."""
    last = CustomerRfm.last_tx_on
    return case((last.is_(None), "prospect"),
                (last < today - timedelta(days=rules["rfm_lost_days"]), "lost"),
                (and_(CustomerRfm.monetary >= rules["rfm_high_value_amount"],
                      last >= today - timedelta(days=rules["rfm_high_value_days"])), "high_value"),
                (last < today - timedelta(days=rules["rfm_at_risk_days"]), "at_risk"),
                else_="potential")


def segments(session: Session, viewer: Viewer, now: datetime, *, page: int = 1,
             per_page: int = SEGMENT_PAGE) -> dict[str, Any]:
    """The count per segment of the owned customers in scope (GROUP BY in SQL over the RFM summary, see
    crm.rfm), and one page of those customers (by id) with R, F, M and segment; `as_of` is when the summary
    was computed."""
    from crm.settings import all_settings
    rules = all_settings(session)
    today = company_date(now)
    if as_of(session) is None and any_transaction(session):
        refresh_all(session, now)  # first use after the migration (the scheduler keeps it current later)
    segment = _segment_case(today, rules)
    scope = (viewer.owner_clause(Customer.owner), Customer.owner.is_not(None))
    joined = select(Customer.id).outerjoin(CustomerRfm, CustomerRfm.customer_id == Customer.id).where(*scope)
    # customers with a transaction are those with a summary row (a join from the smaller side); the others
    # are prospects: the count of owned customers in scope (an index count) less those
    by_segment = select(segment, func.count()).select_from(CustomerRfm)
    if viewer.is_admin:  # every summary row, less those of customers in the pool (a small join)
        counted = dict(session.execute(by_segment.group_by(segment)).all())
        for seg, n in session.execute(by_segment.join(Customer, Customer.id == CustomerRfm.customer_id)
                                      .where(Customer.owner.is_(None)).group_by(segment)):
            counted[seg] -= n
    else:
        counted = dict(session.execute(by_segment.join(Customer, Customer.id == CustomerRfm.customer_id)
                                       .where(*scope).group_by(segment)).all())
    owned = session.scalar(select(func.count()).select_from(Customer).where(*scope)) or 0
    counted["prospect"] = owned - sum(counted.values())
    page_rows = session.execute(
        joined.with_only_columns(Customer.id, Customer.name, Customer.owner, segment, CustomerRfm.last_tx_on,
                                 CustomerRfm.frequency, CustomerRfm.monetary)
        .order_by(Customer.id).limit(per_page).offset((page - 1) * per_page)).all()
    rows = [{"customer_id": cid, "name": name, "owner": owner, "segment": seg,
             "recency_days": (today - last).days if last is not None else None,
             "frequency": freq or 0, "monetary": num(money or 0)}
            for cid, name, owner, seg, last, freq, money in page_rows]
    stamp = as_of(session)
    return {"counts": {s: counted.get(s, 0) for s in SEGMENTS}, "customers": rows,
            "customers_total": sum(counted.values()), "page": page, "per_page": per_page,
            "as_of": stamp.isoformat() if stamp else None}


def attendance_vs_sales(session: Session, viewer: Viewer, month: str, now: datetime) -> list[dict[str, Any]]:
    """Per rep in scope: the month's attendance beside follow-ups, wins and payments."""
    from oa.attendance import has_shift, summarise_month
    from oa.attendance_people import members
    from oa.models import User
    start, end = parse_period(month, "month")
    if len(month) != 7 or "Q" in month:
        from store.errors import InvalidData
        raise InvalidData("month must be YYYY-MM", errors=[{"field": "month", "message": "must be YYYY-MM"}])
    reps = _reps(session, viewer)
    users = [u for u in members(session, User.username.in_(reps)) if has_shift(u)]
    attendance = {m.user: m.as_dict() for m in summarise_month(session, list(users), start,
                                                               end - timedelta(days=1), now)}
    start_dt, end_dt = datetime.combine(start, datetime.min.time()), datetime.combine(end, datetime.min.time())
    fus = dict(session.execute(select(FollowUp.user, func.count()).where(
        FollowUp.created_at >= start_dt, FollowUp.created_at < end_dt, FollowUp.user.in_(reps))
        .group_by(FollowUp.user)).all())
    sales = {r["rep"]: r for r in sales_by_rep(session, viewer, month, reps)}
    out = []
    for u in users:
        a = attendance.get(u.username, {})
        s = sales.get(u.username)
        out.append({"user": u.username, "month": month, "work_days": a.get("work_days", 0),
                    "present_days": a.get("present", 0), "late": a.get("late", 0), "absent": a.get("absent", 0),
                    "leave_days": a.get("leave_days", 0), "follow_ups": fus.get(u.username, 0),
                    "won_count": s["won_count"] if s else 0, "won_amount": s["won_amount"] if s else 0.0,
                    "collected": s["collected"] if s else 0.0})
    return out
