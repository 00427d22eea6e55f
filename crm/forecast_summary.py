"""The forecast summary (crm_forecast_month): open opportunities per owner and expected close month - count,
amount and probability-weighted amount in whole cents (cent-percents for the weighted sum), so the forecast
report and the dashboard add up a few rows per rep instead of every open deal (issue #19).

Kept in the same transaction as the writes that change it: a flush that inserts, changes or deletes an
opportunity recomputes the (owner, month) rows of its old and new values (one grouped statement per pair over
the (status, date, ...) index); an UPDATE/DELETE statement on opportunities through a session rebuilds the whole
table; bulk loads through Core call `refresh_all` themselves. Exact at every moment, so no "as of". Open deals in
the public pool (no owner, released with their customer) are nobody's forecast until someone claims them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Integer, String, cast, delete, event, func, insert, inspect, literal, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from crm.common import month_of
from crm.models import Opportunity
from store.base import Base


class ForecastMonth(Base):
    """Open deals of one owner expected to close in one month (YYYY-MM)."""

    __tablename__ = "crm_forecast_month"

    owner: Mapped[str] = mapped_column(String(100), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    weighted_cent_percents: Mapped[int] = mapped_column(BigInteger, nullable=False)


def _cents() -> Any:
    return cast(func.round(Opportunity.amount * 100), BigInteger)


def _month_bounds(month: str) -> tuple[date, date]:
    year, m = int(month[:4]), int(month[5:])
    return date(year, m, 1), date(year + (m == 12), m % 12 + 1, 1)


def refresh_pairs(session: Session, pairs: set[tuple[str, str]]) -> None:
    """Recompute the rows of these (owner, YYYY-MM) pairs (Core statements: safe inside a flush event)."""
    conn = session.connection()
    table = ForecastMonth.__table__
    for owner, month in sorted(pairs):
        first, after = _month_bounds(month)
        conn.execute(delete(table).where(table.c.owner == owner, table.c.month == month))
        conn.execute(insert(table).from_select(
            ["owner", "month", "count", "amount_cents", "weighted_cent_percents"],
            select(Opportunity.owner, literal(month), func.count(), func.sum(_cents()),
                   func.sum(_cents() * Opportunity.probability))
            .where(Opportunity.status == "open", Opportunity.owner == owner,
                   Opportunity.expected_close_date >= first, Opportunity.expected_close_date < after)
            .group_by(Opportunity.owner)))


def refresh_all(session: Session) -> int:
    """Rebuild the whole table from the opportunities (after a bulk load); returns its rows. No commit."""
    conn = session.connection()
    table = ForecastMonth.__table__
    conn.execute(delete(table))
    day = Opportunity.expected_close_date
    rows = conn.execute(select(Opportunity.owner, day, func.count(), func.sum(_cents()),
                               func.sum(_cents() * Opportunity.probability))
                        .where(Opportunity.status == "open", day.is_not(None), Opportunity.owner.is_not(None))
                        .group_by(Opportunity.owner, day))
    months: dict[tuple[str, str], list[int]] = {}
    for owner, close, n, cents, weighted in rows:
        m = months.setdefault((owner, month_of(close)), [0, 0, 0])
        m[0] += int(n)
        m[1] += int(cents or 0)
        m[2] += int(weighted or 0)
    values = [{"owner": o, "month": mo, "count": v[0], "amount_cents": v[1], "weighted_cent_percents": v[2]}
              for (o, mo), v in months.items()]
    for i in range(0, len(values), 5000):
        conn.execute(insert(table), values[i:i + 5000])
    return len(values)


def _pairs(obj: Opportunity) -> set[tuple[str, str]]:
    """(owner, month) of the opportunity's present and replaced values."""
    attrs = inspect(obj).attrs
    owners = {obj.owner, *(attrs["owner"].history.deleted or ())}
    days = {obj.expected_close_date, *(attrs["expected_close_date"].history.deleted or ())}
    return {(o, month_of(d)) for o in owners for d in days if o and d}


@event.listens_for(Session, "after_flush")
def _track(session: Session, _ctx: Any) -> None:
    """Recompute the rows of the opportunities this flush inserted, changed or deleted."""
    pairs: set[tuple[str, str]] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Opportunity) and (obj not in session.dirty or session.is_modified(obj)):
            pairs |= _pairs(obj)
    if pairs:
        refresh_pairs(session, pairs)


@event.listens_for(Session, "do_orm_execute")
def _track_statements(state: Any) -> Any:
    """UPDATE/DELETE statements on opportunities through a session rebuild the table after the statement."""
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return None
    if state.bind_mapper.class_ is not Opportunity:
        return None
    result = state.invoke_statement()
    refresh_all(state.session)
    return result
