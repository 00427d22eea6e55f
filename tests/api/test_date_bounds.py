"""Dates outside 1900-01-01..2999-12-31 are refused where they come in (attacker finding 5): a flow's start form,
an API body, a web form. A stored date must stay one the calendar and report queries can name."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from api.extensions import db
from crm.models import Opportunity
from engine.models import ProcessInstance
from oa.record_models import Holiday

LOW, HIGH = "0001-01-01", "9999-12-31"


def _fields(resp) -> list[str]:  # noqa: ANN001
    assert resp.status_code == 422, (resp.status_code, resp.get_json())
    assert resp.mimetype == "application/problem+json"
    return [e["field"] for e in resp.get_json()["errors"]]


def test_a_leave_in_year_one_is_refused_at_start(api, app) -> None:  # noqa: ANN001
    for start, end, named in ((LOW, "2031-03-03", ["start_date"]), ("2031-03-03", HIGH, ["end_date"]),
                              (LOW, LOW, ["end_date", "start_date"])):
        resp = api.start_leave("alice", start_date=start, end_date=end)
        assert sorted(_fields(resp)) == named, resp.get_json()
        assert "1900-01-01 and 2999-12-31" in resp.get_json()["errors"][0]["message"]
    resp = api.post("/engine-rest/process-definition/key/leave_request/start", "alice", json={"variables": {
        "leave_type": {"value": "annual"}, "start_date": {"value": LOW}, "end_date": {"value": LOW},
        "reason": {"value": "x"}}})
    assert resp.status_code in (400, 422), resp.get_json()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProcessInstance)
                                 .where(ProcessInstance.process_key == "leave_request")) == 0


def test_api_bodies_refuse_dates_out_of_range_naming_the_field(api, app) -> None:  # noqa: ANN001
    customer = api.post("/api/v1/customers", "alice", json={"name": "Date Probe", "industry": "retail",
                                                            "region": "north", "level": "B", "source": "web",
                                                            "phone": "+86 10 1234 5678"}).get_json()
    body = {"customer_id": customer["id"], "name": "Far deal", "amount": 100}
    assert _fields(api.post("/api/v1/opportunities", "alice",
                            json={**body, "expected_close_date": LOW})) == ["expected_close_date"]
    assert _fields(api.post("/api/v1/holidays", "admin", json={"date": HIGH, "name": "End of time",
                                                                "kind": "holiday"})) == ["date"]
    assert _fields(api.post("/api/v1/follow-ups", "alice", json={
        "customer_id": customer["id"], "type": "call", "content": "x",
        "next_follow_up_date": LOW})) == ["next_follow_up_date"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Opportunity)) == 0
        late = select(func.count()).select_from(Holiday).where(Holiday.date > date(2999, 12, 30))
        assert db.session.scalar(late) == 0
    edge = api.post("/api/v1/opportunities", "alice", json={**body, "expected_close_date": "2999-12-31"})
    assert edge.status_code == 201, edge.get_json()

