"""Attendance: clocking, leave days, who may read whose records, and the monthly report (figures computed
here independently from the rows the test inserts)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, datetime, time, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from oa.attendance import record_leave
from oa.models import Department
from oa.record_models import AttendanceRecord, LeaveRecord
from tests.oa.conftest import problem_fields, run_service

MONTH = "2026-10"  # entirely in the past (the default rule: Mon-Fri 09:00-18:00 UTC, 10 minutes' grace)
OCT = [date(2026, 10, d) for d in range(1, 32)]


def _alice_plan() -> dict[date, tuple[time, time | None]]:
    plan = {}
    for d in OCT:
        if d.weekday() >= 5:
            continue
        if d.day in (5, 6, 7, 12):  # leave (5-7) and one absence (12)
            continue
        clock = {13: (time(9, 30), time(18, 30)), 14: (time(9, 11), time(18, 0)), 15: (time(8, 55), time(17, 0)),
                 16: (time(9, 10), time(18, 0)), 19: (time(9, 45), time(16, 0))}
        plan[d] = clock.get(d.day, (time(8, 50), time(18, 5)))
    plan[date(2026, 10, 10)] = (time(11, 0), time(12, 0))  # a Saturday: present, never late
    return plan


BOB_PLAN = {date(2026, 10, 1): (time(9, 0), time(18, 0)), date(2026, 10, 2): (time(10, 0), time(18, 0))}


def _insert(session, user: str, plan: dict) -> None:  # noqa: ANN001
    for d, (start, end) in plan.items():
        session.add(AttendanceRecord(user=user, work_date=d, clock_in=datetime.combine(d, start),
                                     clock_out=datetime.combine(d, end) if end else None))


def _expected(plan: dict, leave_days: set[date]) -> dict:
    """The month by the rules, from the plan alone."""
    out = Counter()
    for d in OCT:
        work = d.weekday() < 5
        out["work_days"] += work
        if d in leave_days:
            out["leave"] += 1
        elif d in plan:
            out["present"] += 1
            start, end = plan[d]
            if work and start > time(9, 10):
                out["late"] += 1
            if work and end is not None and end < time(18, 0):
                out["early_leave"] += 1
        elif work:
            out["absent"] += 1
    return out


def test_clock_in_and_out(api) -> None:  # noqa: ANN001
    assert api.post("/api/v1/attendance/clock-out", "alice").status_code == 409
    resp = api.post("/api/v1/attendance/clock-in", "alice")
    assert resp.status_code == 201 and resp.get_json()["clock_out"] is None
    again = api.post("/api/v1/attendance/clock-in", "alice")
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert api.post("/api/v1/attendance/clock-in", "bob").status_code == 201  # one open shift per user
    resp = api.post("/api/v1/attendance/clock-out", "alice")
    assert resp.status_code == 200 and resp.get_json()["clock_out"] >= resp.get_json()["clock_in"]
    assert api.post("/api/v1/attendance/clock-out", "alice").status_code == 409
    assert api.post("/api/v1/attendance/clock-in", "alice").status_code == 201  # a second shift the same day
    assert api.post("/api/v1/attendance/clock-in", None).status_code == 401
    mine = api.get("/api/v1/attendance", "alice").get_json()
    assert mine["total"] == 2 and all(r["user"] == "alice" for r in mine["items"])


def test_who_may_read_records(api, dbs) -> None:  # noqa: ANN001
    with dbs() as s:
        _insert(s, "alice", {date(2026, 10, 13): (time(9, 30), time(17, 0)), date(2026, 10, 14): (time(9), None)})
    resp = api.get("/api/v1/attendance", "bob", query_string={"user": "alice", "from": "2026-10-13",
                                                              "to": "2026-10-13"})
    assert resp.status_code == 200
    [row] = resp.get_json()["items"]
    assert row["late"] is True and row["early_leave"] is True and row["work_date"] == "2026-10-13"
    assert api.get("/api/v1/attendance", "dave", query_string={"user": "alice"}).get_json()["total"] == 2
    assert api.get("/api/v1/attendance", "admin", query_string={"user": "alice"}).status_code == 200
    assert api.get("/api/v1/attendance", "carol", query_string={"user": "alice"}).status_code == 403
    assert api.get("/api/v1/attendance", "alice", query_string={"user": "bob"}).status_code == 403
    assert api.get("/api/v1/attendance", "alice", query_string={"user": "ghost"}).status_code == 404
    for query, field in (({"from": "yesterday"}, "from"), ({"to": "2026-13-01"}, "to"), ({"when": "now"}, "when"),
                         ({"from": "2026-10-14", "to": "2026-10-13"}, "to")):
        resp = api.get("/api/v1/attendance", "alice", query_string=query)
        assert resp.status_code == 422 and problem_fields(resp) == {field}, query


def test_record_leave_counts_work_days_and_the_operation(api, dbs) -> None:  # noqa: ANN001
    resp = run_service(api, "oa.record_leave", {"user": "'carol'", "start_date": "'2026-10-09'",
                                                "end_date": "'2026-10-13'", "leave_type": "'sick'"})
    assert resp.status_code == 201 and resp.get_json()["status"] == "completed", resp.get_json()
    instance_id = resp.get_json()["id"]
    with dbs() as s:
        rows = s.scalars(select(LeaveRecord).where(LeaveRecord.user == "carol").order_by(LeaveRecord.date)).all()
        # Fri 9th, Mon 12th, Tue 13th: the weekend is not leave
        assert [r.date.day for r in rows] == [9, 12, 13] and {r.instance_id for r in rows} == {instance_id}
        again = record_leave(s, "carol", "2026-10-13", "2026-10-13", "annual")
        assert again == [date(2026, 10, 13)]  # recorded again: the day takes the new type, no second row
        assert s.execute(select(LeaveRecord.leave_type, LeaveRecord.instance_id).where(
            LeaveRecord.user == "carol", LeaveRecord.date == date(2026, 10, 13))).all() == [("annual", None)]
    bad = run_service(api, "oa.record_leave", {"user": "'carol'", "start_date": "'2026-10-13'",
                                               "end_date": "'2026-10-09'", "leave_type": "'sick'"}, key="svc_bad")
    assert bad.status_code == 201 and bad.get_json()["status"] == "error"
    assert "end_date" in bad.get_json()["error"]["message"]


def test_monthly_report_figures_scope_and_downloads(api, app, dbs) -> None:  # noqa: ANN001
    alice_plan = _alice_plan()
    alice_leave = {date(2026, 10, d) for d in (5, 6, 7)}
    with dbs() as s:
        _insert(s, "alice", alice_plan)
        _insert(s, "bob", BOB_PLAN)
        record_leave(s, "alice", "2026-10-05", "2026-10-07", "annual")
        sales = s.scalar(select(Department.id).where(Department.name == "Sales"))
        finance = s.scalar(select(Department.id).where(Department.name == "Finance"))
    resp = api.get("/api/v1/reports/attendance", "admin", query_string={"month": MONTH, "department": sales})
    assert resp.status_code == 200, resp.get_json()
    report = resp.get_json()
    users = {u["user"]: u for u in report["users"]}
    assert set(users) == {"alice", "bob"}
    for name, plan, leave in (("alice", alice_plan, alice_leave), ("bob", BOB_PLAN, set())):
        want = _expected(plan, leave)
        got = users[name]
        assert {k: got[k] for k in ("work_days", "present", "late", "early_leave", "absent")} == {
            k: want[k] for k in ("work_days", "present", "late", "early_leave", "absent")}, name
        assert got["leave_days"] == want["leave"]
    assert users["alice"]["leave"] == {"annual": 3}
    [dept] = report["departments"]
    assert dept["department"] == "Sales" and dept["users"] == 2
    for key in ("present", "late", "early_leave", "absent"):
        assert dept[key] == users["alice"][key] + users["bob"][key]
    assert dept["leave"] == {"annual": 3}
    # scope: alice sees herself; bob (her manager, head of Sales) both; dave via the parent department
    mine = api.get("/api/v1/reports/attendance", "alice", query_string={"month": MONTH}).get_json()
    assert [u["user"] for u in mine["users"]] == ["alice"]
    assert api.get("/api/v1/reports/attendance", "alice", query_string={"month": MONTH, "department": sales}
                   ).status_code == 403
    assert api.get("/api/v1/reports/attendance", "bob", query_string={"month": MONTH, "department": finance}
                   ).status_code == 403
    bobs = api.get("/api/v1/reports/attendance", "bob", query_string={"month": MONTH}).get_json()
    assert {u["user"] for u in bobs["users"]} == {"alice", "bob"}
    daves = api.get("/api/v1/reports/attendance", "dave", query_string={"month": MONTH, "department": sales})
    assert daves.status_code == 200 and {u["user"] for u in daves.get_json()["users"]} == {"alice", "bob"}
    # downloads
    resp = api.get("/api/v1/reports/attendance", "admin",
                   query_string={"month": MONTH, "department": sales, "format": "csv"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    by_user = {r["user"]: r for r in rows}
    assert int(by_user["alice"]["late"]) == users["alice"]["late"]
    assert int(by_user["alice"]["leave_annual"]) == 3
    resp = api.get("/api/v1/reports/attendance", "admin",
                   query_string={"month": MONTH, "department": sales, "format": "xlsx"})
    assert resp.status_code == 200
    book = load_workbook(io.BytesIO(resp.data))
    sheet = book["Users"]
    header = [c.value for c in sheet[1]]
    values = {row[0]: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["alice"]["absent"] == users["alice"]["absent"]
    assert [c.value for c in book["Departments"][2]][0] == "Sales"
    # bad input
    for query, field in (({"month": "October"}, "month"), ({"month": "2026-13"}, "month"), ({}, "month"),
                         ({"month": MONTH, "format": "pdf"}, "format"), ({"month": MONTH, "department": "x"},
                                                                          "department"),
                         ({"month": MONTH, "department": 99999}, "department")):
        resp = api.get("/api/v1/reports/attendance", "admin", query_string=query)
        assert resp.status_code == 422 and problem_fields(resp) == {field}, query


def test_today_and_future_are_never_absent(api, dbs) -> None:  # noqa: ANN001
    from store.base import utcnow
    today = utcnow().date()
    month = f"{today:%Y-%m}"
    report = api.get("/api/v1/reports/attendance", "alice", query_string={"month": month}).get_json()
    past_work_days = sum(1 for d in range(1, today.day) if (today - timedelta(days=today.day - d)).weekday() < 5)
    assert report["users"][0]["absent"] == past_work_days
