"""Targets add up: quarterly and yearly attainment roll up from the monthly targets; a manager sets targets only
for their own team (reports, transitively, or the departments they head) and gets 403 for anyone else."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from api.extensions import db

T, R = "/api/v1/targets", "/api/v1/reports/sales-by-rep"


def _won(app, customer_id: int, owner: str, amount: int, closed: datetime) -> None:  # noqa: ANN001
    from crm.models import Opportunity
    with app.app_context():
        db.session.add(Opportunity(customer_id=customer_id, name=f"Deal {amount}", stage="won", amount=Decimal(amount),
                                   probability=100, owner=owner, status="won", closed_at=closed))
        db.session.commit()


def _alice(api, period: str) -> dict:  # noqa: ANN001
    resp = api.get(R, "bob", query_string={"period": period})
    assert resp.status_code == 200, resp.get_json()
    return {r["rep"]: r for r in resp.get_json()["items"]}["alice"]


def test_quarter_and_year_attainment_roll_up_from_monthly_targets(api, app, crm) -> None:  # noqa: ANN001
    for month, amount in (("2026-01", 10_000), ("2026-02", 20_000), ("2026-03", 30_000), ("2026-04", 40_000)):
        resp = crm.put(T, "bob", {"period": month, "scope": "rep", "owner": "alice", "amount": amount})
        assert resp.status_code == 200, resp.get_json()
    c = crm.customer("alice")
    _won(app, c["id"], "alice", 30_000, datetime(2026, 2, 10, 12))
    _won(app, c["id"], "alice", 20_000, datetime(2026, 4, 5, 12))
    _won(app, c["id"], "alice", 99_000, datetime(2025, 12, 31, 23))  # last year: in no 2026 figure
    q1 = _alice(api, "2026-Q1")
    assert (q1["target"], q1["won_amount"], q1["attainment_pct"]) == (60_000, 30_000, 50.0)
    q2 = _alice(api, "2026-Q2")
    assert (q2["target"], q2["won_amount"], q2["attainment_pct"]) == (40_000, 20_000, 50.0)
    year = _alice(api, "2026")
    assert (year["target"], year["won_amount"], year["attainment_pct"]) == (100_000, 50_000, 50.0)
    feb = _alice(api, "2026-02")
    assert (feb["target"], feb["attainment_pct"]) == (20_000, 150.0)
    assert _alice(api, "2026-Q3")["target"] is None
    # a quarter with no monthly targets falls back to the quarterly target set for it
    assert crm.put(T, "bob", {"period": "2026-Q3", "scope": "rep", "owner": "alice", "amount": 5_000}) \
        .status_code == 200
    assert _alice(api, "2026-Q3")["target"] == 5_000
    assert _alice(api, "2026")["target"] == 105_000
    assert api.get(R, "bob", query_string={"period": "20266"}).status_code == 422


def test_managers_set_targets_only_for_their_own_team(api, app, crm) -> None:  # noqa: ANN001
    from oa.models import User
    with app.app_context():
        sales = db.session.scalar(select(User.department_id).where(User.username == "alice"))
    resp = api.post("/api/v1/users", "admin", json={"username": "nina", "roles": ["employee"], "manager": "dave",
                                                     "department_id": sales})
    assert resp.status_code == 201, resp.get_json()
    body = {"period": "2026-05", "scope": "rep", "amount": 1_000}
    api.use_api_key("erp")
    assert crm.put(T, "bob", body | {"owner": "nina"}).status_code == 200  # in the department bob heads
    assert crm.put(T, "bob", body | {"owner": "alice"}).status_code == 200  # reports to bob
    assert crm.put(T, "dave", body | {"owner": "alice"}).status_code == 200  # reports to bob, who reports to dave
    for who, owner in (("carol", "alice"), ("bob", "carol"), ("alice", "bob"), ("alice", "alice"), ("bob", "bob"),
                       ("erp", "alice")):
        resp = crm.put(T, who, body | {"owner": owner})
        assert resp.status_code == 403, (who, owner, resp.get_json())
    listed = api.get(T, "bob", query_string={"period": "2026-05"}).get_json()["items"]
    assert {x["owner"] for x in listed} == {"alice", "nina"}
    assert api.get(T, "carol", query_string={"period": "2026-05"}).get_json()["total"] == 0
