"""The forecast read from its summary (crm.forecast_summary) equals a count straight over the open
opportunities after every kind of write: new deals, an amount or probability changed, a deal moved to another
month or owner, a deal won, a deal deleted, and an UPDATE statement through the session - and a rep sees only
their own months."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, update

from api.extensions import db
from crm.access import Viewer
from crm.models import Customer, Opportunity
from crm.reports import forecast


def _direct(owners: set[str] | None) -> list[dict]:
    months: dict[str, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for o in db.session.scalars(select(Opportunity).where(Opportunity.status == "open")):
        if o.expected_close_date is None or (owners is not None and o.owner not in owners):
            continue
        m = months[o.expected_close_date.strftime("%Y-%m")]
        m[0] += 1
        m[1] += Decimal(o.amount)
        m[2] += Decimal(o.amount) * o.probability / 100
    return [{"month": k, "count": v[0], "amount": float(v[1].quantize(Decimal("0.01"), ROUND_HALF_UP)),
             "weighted_amount": float(v[2].quantize(Decimal("0.01"), ROUND_HALF_UP))}
            for k, v in sorted(months.items())]


def _check(viewers: list[Viewer]) -> None:
    for v in viewers:
        assert forecast(db.session, v) == _direct(None if v.is_admin else v.owners), v


def test_forecast_summary_follows_every_write(app) -> None:  # noqa: ANN001
    admin = Viewer(username="admin", is_admin=True)
    alice = Viewer(username="alice")
    with app.app_context():
        c = Customer(name="Summary Co", name_key="summary co", owner="alice", points=0)
        db.session.add(c)
        db.session.flush()
        deals = [Opportunity(customer_id=c.id, name=f"d{i}", amount=Decimal("1000.05") * (i + 1),
                             probability=10 * (i % 9 + 1), owner=("alice", "bob")[i % 2],
                             expected_close_date=date(2026, 11 + i % 3 // 2, 1 + i)) for i in range(12)]
        db.session.add_all(deals)
        db.session.commit()
        _check([admin, alice])
        assert forecast(db.session, alice) and forecast(db.session, alice) != forecast(db.session, admin)
        deals[0].amount, deals[1].probability = Decimal("12.34"), 95
        deals[2].expected_close_date = date(2027, 3, 9)
        deals[3].owner = "alice"
        deals[4].status = "won"
        db.session.delete(deals[5])
        db.session.commit()
        _check([admin, alice])
        db.session.execute(update(Opportunity).where(Opportunity.owner == "bob").values(probability=50))
        db.session.commit()
        _check([admin, alice])
        db.session.remove()
