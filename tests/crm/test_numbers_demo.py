"""The demo data spreads its dates over past months, so the segments and the attendance-vs-sales report show
real variety on first run (several segments, an overdue instalment, absences and lateness that differ)."""

from __future__ import annotations

from datetime import timedelta

from api.extensions import db
from store.base import utcnow


def test_demo_data_gives_varied_segments_receivables_and_attendance(api, app) -> None:  # noqa: ANN001
    from crm import demo as crm_demo
    from oa import demo_records
    with app.app_context():
        crm_demo.seed(db.session, progress=lambda _m: None)
        demo_records.seed(db.session, progress=lambda _m: None)
        db.session.commit()
    body = api.get("/api/v1/reports/segments", "admin").get_json()
    assert {s for s, n in body["counts"].items() if n} == {"high_value", "potential", "at_risk", "lost", "prospect"}
    overdue = api.get("/api/v1/receivables", "admin", query_string={"overdue": "true"}).get_json()
    assert overdue["total"] >= 1
    for contract in api.get("/api/v1/contracts", "admin").get_json()["items"]:
        detail = api.get(f"/api/v1/contracts/{contract['id']}", "admin").get_json()
        assert sum(p["paid_amount"] for p in detail["plans"]) == detail["paid_amount"]  # payments sit on plans

    last_month = (utcnow().date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    rows = api.get("/api/v1/reports/attendance-vs-sales", "admin", query_string={"month": last_month}).get_json()
    rows = {r["user"]: r for r in (rows["items"] if isinstance(rows, dict) else rows)}
    assert {"alice", "bob"} <= set(rows)
    report = api.get("/api/v1/reports/attendance", "admin", query_string={"month": last_month}).get_json()
    users = {u["user"]: u for u in report["users"]}
    assert "admin" not in users and "erp" not in users
    assert all(u["absent"] < u["work_days"] for u in users.values())  # nobody is absent all month
    months = [(utcnow().date().replace(day=1) - timedelta(days=31 * n)).strftime("%Y-%m") for n in (1, 2)]
    figures = set()
    for month in months:
        for u in api.get("/api/v1/reports/attendance", "admin", query_string={"month": month}).get_json()["users"]:
            figures.add((u["user"], u["late"], u["absent"]))
    assert len({(late, absent) for _u, late, absent in figures}) >= 3
    assert any(absent for _u, _l, absent in figures) and any(late for _u, late, _a in figures)
