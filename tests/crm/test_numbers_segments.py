"""Segments (RFM) come from real transaction dates (won opportunities, signed contracts, payments), never from
when a record was created; their thresholds are CRM settings an administrator changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from api.extensions import db
from store.base import utcnow
from tests.crm.conftest import fields_of

R = "/api/v1/reports/segments"


def _customers(app) -> list[int]:  # noqa: ANN001
    from crm.models import Contract, Customer, FollowUp, Opportunity, Payment
    now = utcnow()
    today = now.date()
    with app.app_context():
        s = db.session
        cs = []
        for i, created in enumerate((400, 400, 0, 400, 400)):
            c = Customer(name=f"S{i}", name_key=f"s{i}", owner="alice" if i < 4 else "bob", points=0,
                         assigned_at=now, created_at=now - timedelta(days=created), updated_at=now)
            s.add(c)
            cs.append(c)
        s.flush()

        def contract(c: Customer, signed: date | None) -> Contract:
            k = Contract(customer_id=c.id, title="k", amount=Decimal(500000), paid_amount=0, status="active",
                         owner=c.owner, signed_date=signed, created_at=now)
            s.add(k)
            s.flush()
            return k

        # S0: paid 150k ten days ago -> high value
        s.add(Payment(contract_id=contract(cs[0], None).id, amount=Decimal(150000), paid_on=today - timedelta(10)))
        # S1: signed and paid 100 days ago (the contract row was only typed in today) -> at risk
        k1 = contract(cs[1], today - timedelta(100))
        s.add(Payment(contract_id=k1.id, amount=Decimal(2000), paid_on=today - timedelta(100)))
        # S2: imported today with a contract signed 200 days ago; a chat yesterday is no transaction -> lost
        contract(cs[2], today - timedelta(200))
        s.add(FollowUp(customer_id=cs[2].id, user="alice", type="call", content="hi", created_at=now - timedelta(1)))
        # S3: a deal won 20 days ago, nothing paid yet, customer on file for 400 days -> potential
        s.add(Opportunity(customer_id=cs[3].id, name="o", stage="won", amount=Decimal(9000), probability=100,
                          owner="alice", status="won", closed_at=datetime.combine(today - timedelta(20),
                                                                                  datetime.min.time()),
                          created_at=now - timedelta(300), updated_at=now))
        # S4: never bought anything -> prospect, whatever its age
        s.commit()
        return [c.id for c in cs]


def test_segments_come_from_transaction_dates(api, app) -> None:  # noqa: ANN001
    ids = _customers(app)
    body = api.get(R, "admin").get_json()
    rows = {r["customer_id"]: r for r in body["customers"]}
    assert [rows[i]["segment"] for i in ids] == ["high_value", "at_risk", "lost", "potential", "prospect"]
    assert [rows[i]["recency_days"] for i in ids] == [10, 100, 200, 20, None]
    assert rows[ids[1]]["frequency"] == 2 and rows[ids[1]]["monetary"] == 2000.0  # signed + paid
    assert body["counts"] == {"high_value": 1, "potential": 1, "at_risk": 1, "lost": 1, "prospect": 1}
    assert {r["customer_id"] for r in api.get(R, "alice").get_json()["customers"]} == set(ids[:4])


def test_segment_thresholds_are_admin_settings(api, app, crm) -> None:  # noqa: ANN001
    ids = _customers(app)
    settings = api.get("/api/v1/crm/settings", "alice").get_json()
    assert settings["rfm_high_value_amount"] == 100000 and settings["rfm_lost_days"] == 180
    assert crm.put("/api/v1/crm/settings", "alice", {"rfm_lost_days": 400}).status_code == 403
    resp = crm.put("/api/v1/crm/settings", "admin", {"rfm_at_risk_days": 0})
    assert resp.status_code == 422 and fields_of(resp) == ["rfm_at_risk_days"]
    resp = crm.put("/api/v1/crm/settings", "admin", {"rfm_high_value_amount": 200000, "rfm_lost_days": 365})
    assert resp.status_code == 200, resp.get_json()
    rows = {r["customer_id"]: r["segment"] for r in api.get(R, "admin").get_json()["customers"]}
    assert [rows[i] for i in ids] == ["potential", "at_risk", "at_risk", "potential", "prospect"]
