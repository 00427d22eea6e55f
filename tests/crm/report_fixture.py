"""A seeded, deterministic CRM data set for the report golden test: customers of several reps (and the pool),
opportunities in every stage and status, follow-ups, contracts with payments and targets, dated around NOW.

`expected_reports` computes every CRM report for a few viewers; tests/crm/report_golden.json holds what the
code before the SQL-aggregation rewrite produced on this data (recorded with `python -m tests.crm.report_fixture`).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

NOW = datetime(2026, 6, 15, 10, 30)
GOLDEN = Path(__file__).with_name("report_golden.json")
REPS = ("alice", "bob", "carol", "dave")
PERIODS = ("2026-06", "2026-05", "2026-Q2", "2026-Q1", "2025-12")
VIEWERS = ("admin", "alice", "bob", "dave")


def seed(session: Session) -> None:
    """Insert the data set (deterministic: a fixed random seed)."""
    from crm.models import Contract, Customer, FollowUp, Opportunity, Payment, SalesTarget
    from crm.opportunities import STAGES
    rnd = random.Random(19)
    today = NOW.date()
    customers = []
    for i in range(60):
        owner = None if i % 13 == 0 else rnd.choice(REPS)
        c = Customer(name=f"客户{i} Co", name_key=f"客户{i} co", industry=rnd.choice(("retail", "energy", None)),
                     region=rnd.choice(("north", "south", "east")), level=rnd.choice(("A", "B", "C", None)),
                     owner=owner, points=0, created_at=NOW - timedelta(days=rnd.randint(0, 800)), updated_at=NOW)
        session.add(c)
        customers.append(c)
    session.flush()
    stages = list(STAGES)
    for i in range(150):
        c = rnd.choice(customers)
        stage = rnd.choice(stages)
        status = stage if stage in ("won", "lost") else "open"
        closed = NOW - timedelta(days=rnd.randint(-5, 500), hours=rnd.randint(0, 23)) if status != "open" else None
        close_date = today + timedelta(days=rnd.randint(-60, 300)) if rnd.random() < 0.85 else None
        session.add(Opportunity(customer_id=c.id, name=f"o{i}", stage=stage,
                                amount=Decimal(rnd.randint(0, 500000)) / 100 * rnd.choice((1, 100)),
                                probability=rnd.choice((0, 10, 25, 33, 50, 75, 90, 100)),
                                expected_close_date=close_date, owner=c.owner or rnd.choice(REPS),
                                status=status, closed_at=closed, created_at=NOW - timedelta(days=600),
                                updated_at=NOW))
    for i in range(120):
        c = rnd.choice(customers)
        session.add(FollowUp(customer_id=c.id, user=c.owner or rnd.choice(REPS), type="call", content=f"f{i}",
                             created_at=NOW - timedelta(days=rnd.randint(0, 200), minutes=rnd.randint(0, 999))))
    for i in range(50):
        c = rnd.choice(customers)
        signed = today - timedelta(days=rnd.randint(-10, 700)) if rnd.random() < 0.8 else None
        k = Contract(customer_id=c.id, title=f"k{i}", amount=Decimal(900000), paid_amount=0, status="active",
                     owner=c.owner or rnd.choice(REPS), signed_date=signed, created_at=NOW)
        session.add(k)
        session.flush()
        for _ in range(rnd.randint(0, 3)):
            session.add(Payment(contract_id=k.id, amount=Decimal(rnd.randint(100, 20000000)) / 100,
                                paid_on=today - timedelta(days=rnd.randint(-3, 500)), created_at=NOW))
    for rep in REPS[:3]:
        session.add(SalesTarget(period="2026-06", scope="rep", owner=rep, amount=Decimal(50000), created_at=NOW))
        session.add(SalesTarget(period="2026-Q2", scope="rep", owner=rep, amount=Decimal(200000), created_at=NOW))
    session.flush()


def expected_reports(session: Session) -> dict[str, Any]:
    """Every CRM report on the seeded data for each viewer in VIEWERS, as plain JSON."""
    from crm import reports
    from crm.access import viewer_for
    out: dict[str, Any] = {}
    for name in VIEWERS:
        v = viewer_for(session, name)
        segs = reports.segments(session, v, NOW)
        segs = {"counts": segs["counts"], "customers": segs["customers"]}  # the numbers (not the paging)
        out[name] = {
            "pipeline": reports.pipeline(session, v),
            "forecast": reports.forecast(session, v),
            "sales_by_rep": {p: reports.sales_by_rep(session, v, p) for p in PERIODS},
            "customer_distribution": reports.customer_distribution(session, v),
            "segments": segs,
            "attendance_vs_sales": {m: reports.attendance_vs_sales(session, v, m, NOW)
                                    for m in ("2026-06", "2026-05", "2026-02")},
        }
    return json.loads(json.dumps(out, default=str))


if __name__ == "__main__":  # record the golden file from the current code on a scratch SQLite database
    import tempfile

    from tests.conftest import _prepare
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/golden.db"
        _prepare(url, f"{tmp}/uploads")
        from api.app import create_app
        from api.config import Settings
        from api.extensions import db
        application = create_app(Settings(database_url=url, secret_key="t", testing=True, upload_dir=tmp,
                                          log_json=False))
        with application.app_context():
            seed(db.session)
            db.session.commit()
            GOLDEN.write_text(json.dumps(expected_reports(db.session), ensure_ascii=False, indent=1,
                                         sort_keys=True) + "\n", encoding="utf-8")
            print("wrote", GOLDEN)
