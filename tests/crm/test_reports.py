"""Reports: each checked against figures computed here from the rows the test inserted, and limited to scope."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import date, datetime, timedelta
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import select, update

from api.extensions import db
from crm.models import Contract, Customer, FollowUp, Opportunity, Payment
from engine.models import Task
from store.base import utcnow

R = "/api/v1/reports"


def _seed(app) -> dict:  # noqa: ANN001
    """Customers and opportunities for alice and bob, written directly."""
    now = utcnow()
    with app.app_context():
        s = db.session
        cs = []
        specs = [("alice", "retail", "north", "A"), ("alice", "retail", "south", "B"),
                 ("bob", "energy", "north", "A"), ("carol", "retail", "east", "C")]
        for i, (owner, ind, reg, lvl) in enumerate(specs):
            c = Customer(name=f"C{i}", name_key=f"c{i}", industry=ind, region=reg, level=lvl, owner=owner, points=0,
                         assigned_at=now, created_at=now - timedelta(days=400), updated_at=now)
            s.add(c)
            cs.append(c)
        s.flush()
        opps = [("alice", cs[0], "lead", 1000, 10, date(2026, 12, 5), "open"),
                ("alice", cs[0], "proposal", 2000, 50, date(2026, 12, 20), "open"),
                ("alice", cs[1], "negotiation", 4000, 80, date(2027, 1, 10), "open"),
                ("bob", cs[2], "qualified", 3000, 25, date(2026, 12, 1), "open"),
                ("bob", cs[2], "won", 7000, 100, date(2026, 11, 3), "won"),
                ("alice", cs[1], "won", 500, 100, date(2026, 11, 3), "won"),
                ("carol", cs[3], "lead", 9999, 10, date(2026, 12, 1), "open")]
        for owner, c, stage, amount, prob, close, status in opps:
            s.add(Opportunity(customer_id=c.id, name="o", stage=stage, amount=Decimal(amount), probability=prob,
                              expected_close_date=close, owner=owner, status=status,
                              closed_at=datetime(2026, 11, 3, 10) if status == "won" else None,
                              created_at=now, updated_at=now))
        s.commit()
        return {"ids": [c.id for c in cs], "opps": opps}


def test_pipeline_and_forecast_match_rows_and_scope(api, app) -> None:  # noqa: ANN001
    data = _seed(app)
    for user, owners in (("alice", {"alice"}), ("bob", {"alice", "bob"}), ("admin", {"alice", "bob", "carol"})):
        rows = [o for o in data["opps"] if o[0] in owners]
        pipe = {r["stage"]: r for r in api.get(f"{R}/pipeline", user).get_json()["items"]}
        for stage in ("lead", "qualified", "proposal", "negotiation", "won", "lost"):
            mine = [o for o in rows if o[2] == stage]
            assert pipe[stage]["count"] == len(mine), (user, stage)
            assert pipe[stage]["amount"] == float(sum(o[3] for o in mine))
        expected: dict[str, float] = {}
        for o in rows:
            if o[6] == "open":
                key = o[5].strftime("%Y-%m")
                expected[key] = expected.get(key, 0) + o[3] * o[4] / 100
        got = {r["month"]: r["weighted_amount"] for r in api.get(f"{R}/forecast", user).get_json()["items"]}
        assert got == expected, user
    resp = api.get(f"{R}/pipeline", "alice", query_string={"format": "csv"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0]["stage"] == "lead" and int(table[0]["count"]) == 1
    resp = api.get(f"{R}/forecast", "alice", query_string={"format": "xlsx"})
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert [c.value for c in ws[1]] == ["month", "count", "amount", "weighted_amount"]
    assert api.get(f"{R}/pipeline", "alice", query_string={"format": "pdf"}).status_code == 422
    assert api.get(f"{R}/pipeline").status_code == 401


def test_sales_by_rep_against_target_and_distribution(api, app, crm) -> None:  # noqa: ANN001
    _seed(app)
    assert crm.put("/api/v1/targets", "admin", {"period": "2026-11", "scope": "rep", "owner": "bob",
                                                "amount": 10000}).status_code == 200
    rows = {r["rep"]: r for r in api.get(f"{R}/sales-by-rep", "bob", query_string={"period": "2026-11"})
            .get_json()["items"]}
    assert set(rows) == {"alice", "bob"}
    assert (rows["bob"]["won_amount"], rows["bob"]["won_count"], rows["bob"]["target"]) == (7000.0, 1, 10000.0)
    assert rows["bob"]["attainment_pct"] == 70.0 and rows["alice"]["target"] is None
    assert rows["alice"]["won_amount"] == 500.0
    q4 = {r["rep"]: r for r in api.get(f"{R}/sales-by-rep", "admin", query_string={"period": "2026-Q4"})
          .get_json()["items"]}
    assert q4["bob"]["won_amount"] == 7000.0 and q4["carol"]["won_amount"] == 0.0
    assert api.get(f"{R}/sales-by-rep", "alice", query_string={"period": "2026-13"}).status_code == 422
    alice = api.get(f"{R}/sales-by-rep", "alice", query_string={"period": "2026-11"}).get_json()["items"]
    assert [r["rep"] for r in alice] == ["alice"]
    dist = api.get(f"{R}/customer-distribution", "bob").get_json()
    assert {d["value"]: d["count"] for d in dist["industry"]} == {"retail": 2, "energy": 1}
    assert {d["value"]: d["count"] for d in dist["region"]} == {"north": 2, "south": 1}
    dist = api.get(f"{R}/customer-distribution", "admin").get_json()
    assert {d["value"]: d["count"] for d in dist["level"]} == {"A": 2, "B": 1, "C": 1}


def test_segments_follow_the_documented_rules(api, app) -> None:  # noqa: ANN001
    data = _seed(app)
    c0, c1, c2, c3 = data["ids"]
    now = utcnow()
    with app.app_context():
        s = db.session
        k0 = Contract(customer_id=c0, title="k", amount=Decimal(500000), paid_amount=0, status="active", owner="alice")
        k1 = Contract(customer_id=c1, title="k", amount=Decimal(5000), paid_amount=0, status="active", owner="alice")
        s.add_all([k0, k1])
        s.flush()
        s.add(Payment(contract_id=k0.id, amount=Decimal(150000), paid_on=(now - timedelta(days=10)).date()))
        s.add(Payment(contract_id=k1.id, amount=Decimal(2000), paid_on=(now - timedelta(days=100)).date()))
        s.add(FollowUp(customer_id=c2, user="bob", type="call", content="hi", created_at=now - timedelta(days=5)))
        # the won deals of c1 and c2 (transactions too) on dates relative to today
        for cid, days in ((c1, 100), (c2, 5)):
            s.execute(update(Opportunity).where(Opportunity.customer_id == cid, Opportunity.status == "won")
                      .values(closed_at=now - timedelta(days=days)))
        s.commit()
    body = api.get(f"{R}/segments", "admin").get_json()
    seg = {r["customer_id"]: r["segment"] for r in body["customers"]}
    # c0: paid 150k 10 days ago -> high value; c1: won and paid 100 days ago -> at risk; c2: won 5 days ago,
    # never paid -> potential; c3: no transaction ever -> prospect (crm.reports; test_numbers_segments has more)
    assert seg == {c0: "high_value", c1: "at_risk", c2: "potential", c3: "prospect"}
    assert body["counts"] == {"high_value": 1, "potential": 1, "at_risk": 1, "lost": 0, "prospect": 1}
    mine = api.get(f"{R}/segments", "alice").get_json()
    assert {r["customer_id"] for r in mine["customers"]} == {c0, c1}
    assert next(r for r in mine["customers"] if r["customer_id"] == c0)["monetary"] == 150000.0


def test_approval_efficiency_median_p90_and_overdue(api, app) -> None:  # noqa: ANN001
    for _ in range(4):
        assert api.start_leave("alice", days=1).status_code == 201
    tasks = api.tasks("bob", assignee="me")
    assert len(tasks) == 4
    for t in tasks[:3]:
        assert api.post(f"/api/v1/tasks/{t['id']}/complete", "bob", json={"variables": {"approved": True}}) \
            .status_code == 200
    hours = [2.0, 5.0, 30.0]
    base = datetime(2026, 11, 2, 9)
    with app.app_context():
        for t, h in zip(tasks[:3], hours, strict=True):
            db.session.execute(update(Task).where(Task.id == t["id"]).values(
                created_at=base, completed_at=base + timedelta(hours=h)))
        db.session.execute(update(Task).where(Task.id == tasks[3]["id"]).values(due_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
        completed = db.session.scalars(select(Task).where(Task.status == "completed")).all()
        assert len(completed) == 3
    body = api.get(f"{R}/approval-efficiency", "admin").get_json()
    leave = next(r for r in body["by_process"] if r["process_key"] == "leave_request")
    ordered = sorted(hours)
    assert leave["completed"] == 3 and leave["median_hours"] == statistics.median(hours)
    assert leave["p90_hours"] == ordered[-1]  # ceil(0.9 * 3) = 3rd value
    assert [r["approver"] for r in body["by_approver"]] == ["bob"]
    assert body["overdue_count"] == 1 and body["overdue_open_tasks"][0]["task_id"] == tasks[3]["id"]
    # alice approved nothing and holds no overdue task; bob's manager dave sees bob's figures
    alice = api.get(f"{R}/approval-efficiency", "alice").get_json()
    assert alice["by_process"] == [] and alice["overdue_count"] == 0
    assert api.get(f"{R}/approval-efficiency", "dave").get_json()["overdue_count"] == 1
    ranged = api.get(f"{R}/approval-efficiency", "admin", query_string={"from": "2026-11-04"}).get_json()
    assert ranged["by_process"] == []
    assert api.get(f"{R}/approval-efficiency", "admin", query_string={"from": "yesterday"}).status_code == 422
    resp = api.get(f"{R}/approval-efficiency", "admin", query_string={"format": "csv", "group": "approver"})
    assert "bob" in resp.get_data(as_text=True)


def test_attendance_vs_sales(api, app) -> None:  # noqa: ANN001
    _seed(app)
    from oa.record_models import AttendanceRecord
    with app.app_context():
        db.session.add_all([AttendanceRecord(user="alice", work_date=date(2026, 11, d),
                                             clock_in=datetime(2026, 11, d, 1), clock_out=datetime(2026, 11, d, 10))
                            for d in (2, 3, 4)])
        db.session.add(FollowUp(customer_id=db.session.scalar(select(Customer.id).where(Customer.owner == "alice")),
                                user="alice", type="call", content="x", created_at=datetime(2026, 11, 5, 9)))
        db.session.commit()
    rows = {r["user"]: r for r in api.get(f"{R}/attendance-vs-sales", "bob", query_string={"month": "2026-11"})
            .get_json()["items"]}
    assert set(rows) == {"alice", "bob"}
    assert rows["alice"]["present_days"] == 3 and rows["alice"]["follow_ups"] == 1
    assert rows["alice"]["won_amount"] == 500.0 and rows["bob"]["won_amount"] == 7000.0
    assert rows["bob"]["present_days"] == 0
    assert api.get(f"{R}/attendance-vs-sales", "bob", query_string={"month": "2026-Q4"}).status_code == 422
    assert [r["user"] for r in api.get(f"{R}/attendance-vs-sales", "alice", query_string={"month": "2026-11"})
            .get_json()["items"]] == ["alice"]
