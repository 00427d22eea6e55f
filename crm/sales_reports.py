"""Sales analytics from history, aggregated in SQL (GROUP BY), each limited to the viewer's data scope:

Won revenue is one figure in every report that shows it (win rate, sales trend, order cycle; sales by rep in
crm.reports too): the amounts of the deals won (closed_at in the period) plus the totals of the orders confirmed
without a deal (confirmed_at in the period) - an order confirmed without an opportunity is won business too.
An order confirmed on a deal wins that deal for the order total, so it is never counted twice. Deal counts
(won, lost, win rate, deals won) count deals only.

- win rate: per rep, deals won and lost (closed_at in the period) and the win rate, beside the rep's won revenue
  (a rep whose only sales are orders without a deal is listed with no closed deals); stage conversion per rep and
  stage: of the closed deals that ever reached a stage (the audit trail's stage changes), how many were won;
- forecast: open deals per stage, weighted by their nominal probability and, beside it, by the historical win
  rate of their stage (all closed deals in scope that reached it);
- sales trend: per month, orders confirmed (count, total), deals won (count), won revenue and payments received;
- order cycle (the OA x CRM decision view): per team (the owner's department) and month, the approval cycle time
  of orders (first submission -> confirmation) and contracts (contract_approval start -> end) beside the won
  revenue (deals won, plus confirmed orders without a deal) and customer satisfaction (follow-up scores).
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, literal, select
from sqlalchemy.orm import Session

from crm.access import Viewer
from crm.common import num, parse_period
from crm.models import AuditEntry, FollowUp, Opportunity, OrderRound, Payment, SalesOrder
from crm.opportunities import STAGES
from oa.models import Department, User

OPEN_STAGES = [s for s in STAGES if s not in ("won", "lost")]


def _month(session: Session, column: Any) -> ColumnElement:
    """YYYY-MM of a date/datetime column, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _hours(session: Session, end: Any, start: Any) -> ColumnElement:
    """Hours between two datetime columns, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def _bounds(period: str | None, today: date) -> tuple[datetime, datetime, str]:
    period = period or str(today.year)
    start, end = parse_period(period)
    return datetime.combine(start, time.min), datetime.combine(end, time.min), period


def _rate(won: int, total: int) -> float | None:
    return round(100.0 * won / total, 1) if total else None


def orderless_orders(viewer_clause: ColumnElement, start: datetime, end: datetime) -> ColumnElement:
    """Orders confirmed in [start, end) without an opportunity (won revenue no deal carries), in a scope."""
    return and_(viewer_clause, SalesOrder.status == "confirmed", SalesOrder.opportunity_id.is_(None),
                SalesOrder.confirmed_at >= start, SalesOrder.confirmed_at < end)


def win_rate(session: Session, viewer: Viewer, period: str | None, today: date) -> dict[str, Any]:
    """Win rate per rep and stage conversion per rep and stage for deals closed in `period` (default: this
    year), and the forecast of open deals (nominal and historical weighting)."""
    start, end, period = _bounds(period, today)
    closed = and_(viewer.owner_clause(Opportunity.owner), Opportunity.status.in_(("won", "lost")),
                  Opportunity.closed_at >= start, Opportunity.closed_at < end)
    won = func.sum(case((Opportunity.status == "won", 1), else_=0))
    rows = session.execute(select(Opportunity.owner, won, func.count(),
                                  func.sum(case((Opportunity.status == "won", Opportunity.amount), else_=0)))
                           .where(closed).group_by(Opportunity.owner).order_by(Opportunity.owner)).all()
    reps = {r[0]: {"owner": r[0], "won": int(r[1] or 0), "lost": int(r[2] - (r[1] or 0)), "closed": int(r[2]),
                   "win_rate": _rate(int(r[1] or 0), int(r[2])), "won_amount": num(r[3])} for r in rows}
    for owner, total in session.execute(
            select(SalesOrder.owner, func.sum(SalesOrder.total))
            .where(orderless_orders(viewer.owner_clause(SalesOrder.owner), start, end)).group_by(SalesOrder.owner)):
        rep = reps.setdefault(owner, {"owner": owner, "won": 0, "lost": 0, "closed": 0, "win_rate": None,
                                      "won_amount": 0.0})
        rep["won_amount"] = num(Decimal(str(rep["won_amount"])) + Decimal(str(total)))
    by_rep = [reps[k] for k in sorted(reps, key=lambda o: (o is None, o or ""))]
    stages = _stage_conversion(session, closed)
    return {"period": period, "by_rep": by_rep, "stage_conversion": stages,
            "forecast": forecast(session, viewer)}


def _reached(session: Session, condition: ColumnElement, *, by_owner: bool) -> list[Any]:
    """(owner?, stage, deals that reached it, of which won) over closed deals matching `condition`."""
    stage = AuditEntry.new_value
    cols = [Opportunity.owner] if by_owner else []
    query = (select(*cols, stage, func.count(distinct(Opportunity.id)),
                    func.count(distinct(case((Opportunity.status == "won", Opportunity.id)))))
             .join(AuditEntry, and_(AuditEntry.entity == "opportunity", AuditEntry.entity_id == Opportunity.id,
                                    AuditEntry.field == "stage"))
             .where(condition, stage.in_(OPEN_STAGES)).group_by(*cols, stage))
    return session.execute(query).all()


def _stage_conversion(session: Session, closed: ColumnElement) -> list[dict[str, Any]]:
    order = {s: i for i, s in enumerate(OPEN_STAGES)}
    rows = sorted(_reached(session, closed, by_owner=True), key=lambda r: (r[0] or "", order[r[1]]))
    return [{"owner": r[0], "stage": r[1], "reached": int(r[2]), "won": int(r[3]),
             "conversion": _rate(int(r[3]), int(r[2]))} for r in rows]


def forecast(session: Session, viewer: Viewer) -> list[dict[str, Any]]:
    """Open deals per stage: amount, probability-weighted amount, and the amount weighted by the historical win
    rate of the stage (None where no closed deal in scope ever reached it)."""
    history = {r[0]: (int(r[2]), int(r[1])) for r in _reached(
        session, and_(viewer.owner_clause(Opportunity.owner), Opportunity.status.in_(("won", "lost"))),
        by_owner=False)}
    rows = session.execute(select(Opportunity.stage, func.count(), func.coalesce(func.sum(Opportunity.amount), 0),
                                  func.coalesce(func.sum(Opportunity.amount * Opportunity.probability), 0))
                           .where(viewer.owner_clause(Opportunity.owner), Opportunity.status == "open")
                           .group_by(Opportunity.stage)).all()
    found = {r[0]: r for r in rows}
    out = []
    for stage in OPEN_STAGES:
        _, count, amount, weighted = found.get(stage, (stage, 0, 0, 0))
        won, reached = history.get(stage, (0, 0))
        rate = _rate(won, reached)
        out.append({"stage": stage, "count": int(count), "amount": num(amount),
                    "nominal_weighted": num(Decimal(str(weighted)) / 100),
                    "historical_win_rate": rate,
                    "historical_weighted": num(Decimal(str(amount)) * Decimal(str(rate)) / 100)
                    if rate is not None else None})
    return out


def sales_trend(session: Session, viewer: Viewer, period: str | None, today: date) -> dict[str, Any]:
    """Per month of `period` (default: this year): orders confirmed, deals won, payments received."""
    start, end, period = _bounds(period, today)
    months: dict[str, dict[str, Any]] = {}

    def row(month: str) -> dict[str, Any]:
        return months.setdefault(month, {"month": month, "orders": 0, "order_total": 0.0, "deals_won": 0,
                                         "won_amount": 0.0, "payments": 0.0})

    m = _month(session, SalesOrder.confirmed_at)
    for month, count, total in session.execute(
            select(m, func.count(), func.sum(SalesOrder.total))
            .where(viewer.owner_clause(SalesOrder.owner), SalesOrder.status == "confirmed",
                   SalesOrder.confirmed_at >= start, SalesOrder.confirmed_at < end).group_by(m)):
        row(month).update(orders=int(count), order_total=num(total))
    m = _month(session, Opportunity.closed_at)
    for month, count, total in session.execute(
            select(m, func.count(), func.sum(Opportunity.amount))
            .where(viewer.owner_clause(Opportunity.owner), Opportunity.status == "won",
                   Opportunity.closed_at >= start, Opportunity.closed_at < end).group_by(m)):
        row(month).update(deals_won=int(count), won_amount=num(total))
    m = _month(session, SalesOrder.confirmed_at)
    for month, total in session.execute(
            select(m, func.sum(SalesOrder.total))
            .where(orderless_orders(viewer.owner_clause(SalesOrder.owner), start, end)).group_by(m)):
        r = row(month)
        r["won_amount"] = num(Decimal(str(r["won_amount"])) + Decimal(str(total)))
    from crm.models import Contract
    m = _month(session, Payment.paid_on)
    for month, total in session.execute(
            select(m, func.sum(Payment.amount)).join(Contract, Contract.id == Payment.contract_id)
            .where(viewer.owner_clause(Contract.owner), Payment.paid_on >= start.date(),
                   Payment.paid_on < end.date()).group_by(m)):
        row(month)["payments"] = num(total)
    return {"period": period, "months": [months[k] for k in sorted(months)]}


def _team(owner_column: Any) -> tuple[Any, ColumnElement]:
    """(team column, join condition): the owner's department name ('-' without one)."""
    return func.coalesce(Department.name, literal("-")), owner_column == User.username


def order_cycle(session: Session, viewer: Viewer, period: str | None, today: date) -> dict[str, Any]:
    """Per team and month of `period`: order and contract approval cycle times (average hours) beside won revenue
    and customer satisfaction."""
    from engine.models import ProcessInstance
    start, end, period = _bounds(period, today)
    cells: dict[tuple[str, str], dict[str, Any]] = {}

    def cell(team: str, month: str) -> dict[str, Any]:
        return cells.setdefault((team, month), {
            "team": team, "month": month, "orders_confirmed": 0, "order_cycle_hours": None,
            "contracts_approved": 0, "contract_cycle_hours": None, "won_revenue": 0.0,
            "satisfaction": None, "satisfaction_count": 0})

    first = (select(OrderRound.order_id, func.min(OrderRound.submitted_at).label("first_at"))
             .group_by(OrderRound.order_id).subquery())
    team, on = _team(SalesOrder.owner)
    m = _month(session, SalesOrder.confirmed_at)
    for t, month, count, hours in session.execute(
            select(team, m, func.count(), func.avg(_hours(session, SalesOrder.confirmed_at, first.c.first_at)))
            .join(first, first.c.order_id == SalesOrder.id).join(User, on, isouter=True)
            .join(Department, Department.id == User.department_id, isouter=True)
            .where(viewer.owner_clause(SalesOrder.owner), SalesOrder.status == "confirmed",
                   SalesOrder.confirmed_at >= start, SalesOrder.confirmed_at < end).group_by(team, m)):
        cell(t, month).update(orders_confirmed=int(count), order_cycle_hours=round(float(hours), 1))
    team, on = _team(ProcessInstance.started_by)
    m = _month(session, ProcessInstance.ended_at)
    for t, month, count, hours in session.execute(
            select(team, m, func.count(), func.avg(_hours(session, ProcessInstance.ended_at,
                                                          ProcessInstance.started_at)))
            .join(User, on, isouter=True).join(Department, Department.id == User.department_id, isouter=True)
            .where(viewer.owner_clause(ProcessInstance.started_by), ProcessInstance.process_key == "contract_approval",
                   ProcessInstance.status == "completed", ProcessInstance.ended_at >= start,
                   ProcessInstance.ended_at < end).group_by(team, m)):
        cell(t, month).update(contracts_approved=int(count), contract_cycle_hours=round(float(hours), 1))
    team, on = _team(Opportunity.owner)
    m = _month(session, Opportunity.closed_at)
    for t, month, total in session.execute(
            select(team, m, func.sum(Opportunity.amount)).join(User, on, isouter=True)
            .join(Department, Department.id == User.department_id, isouter=True)
            .where(viewer.owner_clause(Opportunity.owner), Opportunity.status == "won",
                   Opportunity.closed_at >= start, Opportunity.closed_at < end).group_by(team, m)):
        cell(t, month)["won_revenue"] = num(total)
    team, on = _team(SalesOrder.owner)
    m = _month(session, SalesOrder.confirmed_at)
    for t, month, total in session.execute(
            select(team, m, func.sum(SalesOrder.total)).join(User, on, isouter=True)
            .join(Department, Department.id == User.department_id, isouter=True)
            .where(orderless_orders(viewer.owner_clause(SalesOrder.owner), start, end)).group_by(team, m)):
        c = cell(t, month)
        c["won_revenue"] = num(Decimal(str(c["won_revenue"])) + Decimal(str(total)))
    team, on = _team(FollowUp.user)
    m = _month(session, FollowUp.created_at)
    for t, month, count, score in session.execute(
            select(team, m, func.count(), func.avg(FollowUp.satisfaction)).join(User, on, isouter=True)
            .join(Department, Department.id == User.department_id, isouter=True)
            .where(viewer.owner_clause(FollowUp.user), FollowUp.satisfaction.is_not(None),
                   FollowUp.created_at >= start, FollowUp.created_at < end).group_by(team, m)):
        cell(t, month).update(satisfaction=round(float(score), 2), satisfaction_count=int(count))
    return {"period": period, "rows": [cells[k] for k in sorted(cells)]}
