"""Absences add up: only people with a shift can be absent, and only from their start (hire) date; the admin and
the integrator service account are never absent; holidays of the company calendar are not absences."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from oa.models import User
from tests.oa.conftest import problem_fields

MONTH = "2026-10"  # in the past; 22 weekdays (Thu 1st .. Sat 31st)
OCT_WORK_DAYS = 22


def _report(api, user: str = "admin", **query) -> dict[str, dict]:  # noqa: ANN001, ANN003
    resp = api.get("/api/v1/reports/attendance", user, query_string={"month": MONTH, **query})
    assert resp.status_code == 200, resp.get_json()
    return {u["user"]: u for u in resp.get_json()["users"]}


def test_admin_and_service_accounts_are_never_absent(api) -> None:  # noqa: ANN001
    users = _report(api)
    assert "admin" not in users and "erp" not in users  # no shift: not in the attendance report at all
    assert users["alice"]["absent"] == OCT_WORK_DAYS and users["alice"]["work_days"] == OCT_WORK_DAYS
    resp = api.get("/api/v1/reports/attendance-vs-sales", "admin", query_string={"month": MONTH})
    assert resp.status_code == 200, resp.get_json()
    rows = resp.get_json()
    rows = rows["items"] if isinstance(rows, dict) else rows
    assert all(r["absent"] == 0 for r in rows if r["user"] in ("admin", "erp"))


def test_absence_counts_from_the_start_date(api, dbs) -> None:  # noqa: ANN001
    with dbs() as s:
        sales = s.scalar(select(User.department_id).where(User.username == "alice"))
    resp = api.post("/api/v1/users", "admin", json={"username": "nina", "roles": ["employee"], "manager": "bob",
                                                     "department_id": sales, "start_date": "2026-10-19"})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["start_date"] == "2026-10-19"
    nina = _report(api)["nina"]
    assert (nina["work_days"], nina["absent"]) == (10, 10)  # Mon 19th .. Fri 30th
    path = f"/api/v1/users/{resp.get_json()['id']}"
    resp = api.client.patch(path, json={"start_date": "2026-10-26"}, headers=api.headers("admin"))
    assert resp.status_code == 200, resp.get_json()
    assert _report(api)["nina"]["absent"] == 5
    resp = api.post("/api/v1/users", "admin", json={"username": "olga", "start_date": "last week"})
    assert resp.status_code == 422 and problem_fields(resp) == {"start_date"}
    for far in ("1800-01-01", "3000-01-01"):  # outside oa.org_admin.HIRE_DATES: refused, nothing changes
        resp = api.post("/api/v1/users", "admin", json={"username": "olga", "start_date": far})
        assert resp.status_code == 422 and problem_fields(resp) == {"start_date"}
        resp = api.client.patch(path, json={"start_date": far}, headers=api.headers("admin"))
        assert resp.status_code == 422 and problem_fields(resp) == {"start_date"}
    assert _report(api)["nina"]["absent"] == 5 and "olga" not in _report(api)
    assert api.client.patch(path, json={"start_date": "2026-01-01"}, headers=api.headers("bob")).status_code == 403


def test_holidays_are_not_absences(app, dbs) -> None:  # noqa: ANN001
    from api.extensions import db
    from oa.attendance import summarise_month
    from oa.holidays import create
    with dbs() as s:  # the summary reads the company calendar itself
        for day in (1, 2, 3):
            create(s, date(2026, 10, day), "holiday", f"holiday {day}")
    with app.app_context():
        alice = db.session.scalar(select(User).where(User.username == "alice"))
        [month] = summarise_month(db.session, [alice], date(2026, 10, 1), date(2026, 10, 31))
        assert (month.work_days, month.absent) == (OCT_WORK_DAYS - 2, OCT_WORK_DAYS - 2)
