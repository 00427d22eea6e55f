"""Leave rules computed, not typed: working days from the company calendar, date checks and overlaps at start."""

from __future__ import annotations

from sqlalchemy import func, select

from api.extensions import db
from engine.models import ProcessInstance
from oa.record_models import LeaveRecord

START = "/api/v1/process-definitions/leave_request/start"


def _start(api, user: str = "alice", **variables):  # noqa: ANN001, ANN003, ANN202
    body = {"leave_type": "annual", "reason": "trip", **variables}
    return api.post(START, user, json={"variables": body})


def _days(api, **variables) -> float:  # noqa: ANN001, ANN003
    resp = _start(api, **variables)
    assert resp.status_code == 201, resp.get_json()
    return api.get(f"/api/v1/process-instances/{resp.get_json()['id']}", "admin").get_json()["variables"]["days"]


def _load_calendar(app) -> None:  # noqa: ANN001
    from oa.holidays import load_shipped
    with app.app_context():
        load_shipped(db.session)
        db.session.commit()


def _problem_fields(resp) -> list[str]:  # noqa: ANN001
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json", resp.get_data(as_text=True)
    return [e["field"] for e in resp.get_json()["errors"]]


def _instances(app) -> int:  # noqa: ANN001
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ProcessInstance))


def _approve(api, instance_id: int) -> None:  # noqa: ANN001
    task = next(t for t in api.tasks("bob", assignee="me") if t["instance_id"] == instance_id)
    resp = api.post(f"/api/v1/tasks/{task['id']}/complete", "bob", json={"variables": {"approved": True}})
    assert resp.status_code == 200, resp.get_json()


def test_days_are_computed_across_a_weekend_holidays_a_make_up_saturday_and_half_days(api, app) -> None:  # noqa: ANN001
    _load_calendar(app)
    assert _days(api, start_date="2031-01-10", end_date="2031-01-13") == 2  # Fri + Mon, the weekend is free
    # National Day 2026: Mon 28 Sep to Sat 10 Oct = 3 days before, Oct 1-7 off, Thu 8, Fri 9, make-up Sat 10
    assert _days(api, start_date="2026-09-28", end_date="2026-10-10") == 6
    assert _days(api, start_date="2031-02-03", end_date="2031-02-05", start_half="pm", end_half="am") == 2
    assert _days(api, start_date="2031-02-10", end_date="2031-02-10", end_half="am") == 0.5
    assert _days(api, start_date="2031-02-11", end_date="2031-02-11", start_half="pm") == 0.5


def test_days_typed_by_the_applicant_are_ignored_and_four_computed_days_need_hr(api) -> None:  # noqa: ANN001
    resp = _start(api, start_date="2031-03-03", end_date="2031-03-06", days=1)  # Mon-Thu: 4 days
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()
    assert api.get(f"/api/v1/process-instances/{inst['id']}", "admin").get_json()["variables"]["days"] == 4
    _approve(api, inst["id"])
    hr = [t for t in api.tasks("erin", candidate="me") if t["instance_id"] == inst["id"]]
    assert [t["element_id"] for t in hr] == ["hr_approval"]


def test_end_before_start_and_impossible_halves_are_refused_with_nothing_written(api, app) -> None:  # noqa: ANN001
    before = _instances(app)
    assert _problem_fields(_start(api, start_date="2031-03-10", end_date="2031-03-07")) == ["end_date"]
    assert _problem_fields(_start(api, start_date="2031-03-10", end_date="2031-03-10", start_half="pm",
                                  end_half="am")) == ["end_half"]
    assert _problem_fields(_start(api, start_date="2031-03-08", end_date="2031-03-09")) == ["start_date"]  # weekend
    assert _problem_fields(_start(api, start_date="2031-01-01", end_date="2035-01-01")) == ["end_date"]  # too long
    assert _instances(app) == before
    assert api.tasks("bob", assignee="me") == []


def test_overlap_with_own_pending_or_approved_leave_is_refused(api, app) -> None:  # noqa: ANN001
    first = _start(api, start_date="2031-04-07", end_date="2031-04-09")
    assert first.status_code == 201
    before = _instances(app)
    assert _problem_fields(_start(api, start_date="2031-04-09", end_date="2031-04-10")) == ["start_date"]
    assert _start(api, "bob", start_date="2031-04-08", end_date="2031-04-08").status_code == 201  # someone else
    _approve(api, first.get_json()["id"])  # approved: written to attendance, no longer pending
    assert _problem_fields(_start(api, start_date="2031-04-04", end_date="2031-04-07")) == ["start_date"]
    assert _instances(app) == before + 1
    # half days do not overlap the other half of the same day
    assert _start(api, start_date="2031-04-14", end_date="2031-04-14", end_half="am").status_code == 201
    assert _start(api, start_date="2031-04-14", end_date="2031-04-15", start_half="pm").status_code == 201
    assert _problem_fields(_start(api, start_date="2031-04-15", end_date="2031-04-15")) == ["start_date"]


def test_approved_leave_in_attendance_follows_the_calendar_and_records_halves(api, app) -> None:  # noqa: ANN001
    _load_calendar(app)
    resp = _start(api, start_date="2026-09-30", end_date="2026-10-10", start_half="pm", end_half="am")
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()
    _approve(api, inst["id"])  # 0.5 + 1 + 1 + 0.5 = 3 days: no HR step
    assert api.get(f"/api/v1/process-instances/{inst['id']}", "admin").get_json()["variables"]["outcome"] == "approved"
    with app.app_context():
        rows = db.session.scalars(select(LeaveRecord).where(LeaveRecord.user == "alice")
                                  .order_by(LeaveRecord.date)).all()
        assert [(str(r.date), r.half) for r in rows] == [
            ("2026-09-30", "pm"), ("2026-10-08", None), ("2026-10-09", None), ("2026-10-10", "am")]


def test_holiday_admin_api(api) -> None:  # noqa: ANN001
    url = "/api/v1/holidays"
    body = {"date": "2031-05-01", "kind": "holiday", "name": "劳动节 <b>Labour</b>"}
    assert api.post(url, "alice", json=body).status_code == 403
    assert api.get(url, "alice").status_code == 403
    created = api.post(url, "admin", json=body)
    assert created.status_code == 201 and created.get_json()["name"] == body["name"]
    hid = created.get_json()["id"]
    assert api.post(url, "admin", json=body).status_code == 409
    assert _problem_fields(api.post(url, "admin", json={**body, "date": "2031-05-02", "kind": "party"})) == ["kind"]
    assert _problem_fields(api.post(url, "admin", json={**body, "date": "May 1st"})) == ["date"]
    assert _problem_fields(api.post(url, "admin", json={**body, "date": "2031-05-03", "name": "x" * 101})) == ["name"]
    assert _problem_fields(api.post(url, "admin", json={**body, "date": "2031-05-03", "admin": True})) == ["admin"]
    listed = api.get(url, "admin", query_string={"from": "2031-01-01", "to": "2031-12-31"}).get_json()
    assert listed["total"] == 1 and listed["items"][0]["date"] == "2031-05-01"
    assert _problem_fields(api.get(url, "admin", query_string={"from": "soon"})) == ["from"]
    # the calendar drives the computed days: a holiday on Thursday 1 May 2031
    assert _days(api, start_date="2031-04-28", end_date="2031-05-02") == 4
    patched = api.client.patch(f"{url}/{hid}", json={"kind": "workday", "date": "2031-05-03"},
                               headers=api.headers("admin"))
    assert patched.status_code == 200 and patched.get_json()["kind"] == "workday"
    assert api.client.patch(f"{url}/{hid}", json={"kind": "x"}, headers=api.headers("alice")).status_code == 403
    assert api.client.delete(f"{url}/{hid}", headers=api.headers("alice")).status_code == 403
    assert api.client.delete(f"{url}/{hid}", headers=api.headers("admin")).status_code == 204
    assert api.get(f"{url}/{hid}", "admin").status_code == 404


def test_concurrent_overlapping_starts_make_one_request(api, app) -> None:  # noqa: ANN001
    from tests.conftest import run_in_threads
    token = api.token("alice")
    statuses: list[int] = []

    def start(i: int) -> None:
        resp = app.test_client().post(START, headers={"Authorization": f"Bearer {token}"}, json={"variables": {
            "leave_type": "annual", "reason": "race", "start_date": "2031-06-02", "end_date": f"2031-06-0{3 + i}"}})
        statuses.append(resp.status_code)

    run_in_threads(4, start)
    assert sorted(statuses) == [201, 422, 422, 422]
    assert _instances(app) == 1


def test_concurrent_retries_with_one_idempotency_key_return_the_one_request(api, app) -> None:  # noqa: ANN001
    from tests.conftest import run_in_threads
    token = api.token("alice")
    results: list[tuple[int, int | None]] = []

    def start(_i: int) -> None:
        resp = app.test_client().post(START, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k-1"},
                                      json={"variables": {"leave_type": "annual", "reason": "retry",
                                                          "start_date": "2031-07-07", "end_date": "2031-07-08"}})
        results.append((resp.status_code, (resp.get_json() or {}).get("id")))

    run_in_threads(4, start)
    assert sorted(s for s, _ in results) == [200, 200, 200, 201], results
    assert len({i for _, i in results}) == 1 and _instances(app) == 1
