"""Opportunities, follow-ups with reminders, contracts/receivables/payments, loyalty points, and the
service-task operations the approval flows call."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from api.extensions import db
from api.state import get_engine
from crm.follow_ups import fire_due_follow_up_reminders
from crm.models import Contract, FollowUp, Opportunity, Ticket, VisitPlan
from engine.services import ServiceCall
from tests.crm.conftest import C, fields_of

OPP = "/api/v1/opportunities"


def test_opportunity_stages_default_probability_and_win_lose(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    o = crm.opportunity("alice", c["id"], amount=5000, expected_close_date="2026-12-15")
    assert (o["stage"], o["probability"], o["status"], o["owner"]) == ("lead", 10, "open", "alice")
    resp = crm.patch(f"{OPP}/{o['id']}", "alice", {"stage": "proposal"})
    assert resp.get_json()["probability"] == 50
    assert crm.patch(f"{OPP}/{o['id']}", "alice", {"stage": "won"}).status_code == 422
    assert crm.patch(f"{OPP}/{o['id']}", "alice", {"probability": 101}).status_code == 422
    assert crm.patch(f"{OPP}/{o['id']}", "carol", {"stage": "qualified"}).status_code == 404
    assert api.get(f"{OPP}/{o['id']}", "bob").status_code == 200
    resp = api.post(f"{OPP}/{o['id']}/win", "alice", json={})
    assert resp.status_code == 422 and fields_of(resp) == ["reason"]
    resp = api.post(f"{OPP}/{o['id']}/win", "alice", json={"reason": "best price", "contract_title": "Supply 2027"})
    won = resp.get_json()
    assert resp.status_code == 200 and (won["status"], won["stage"], won["probability"]) == ("won", "won", 100)
    assert won["contract"]["title"] == "Supply 2027" and won["contract"]["amount"] == 5000.0
    assert won["contract"]["status"] == "active"
    assert api.post(f"{OPP}/{o['id']}/lose", "alice", json={"reason": "x"}).status_code == 409
    o2 = crm.opportunity("alice", c["id"])
    lost = api.post(f"{OPP}/{o2['id']}/lose", "alice", json={"reason": "too expensive"}).get_json()
    assert (lost["status"], lost["probability"], lost["close_reason"]) == ("lost", 0, "too expensive")
    # a customer outside one's scope cannot carry one's opportunity: 422 naming the field
    resp = api.post(OPP, "carol", json={"customer_id": c["id"], "name": "Sneaky"})
    assert resp.status_code == 422 and fields_of(resp) == ["customer_id"]
    assert api.get(OPP, "carol").get_json()["total"] == 0
    assert api.get(OPP, "alice", query_string={"status": "won"}).get_json()["total"] == 1
    trail = api.get("/api/v1/audit", "alice", query_string={"entity": "opportunity", "id": o["id"]}).get_json()
    assert ("stage", "lead", "proposal") in {(e["field"], e["old"], e["new"]) for e in trail["items"]}


def test_follow_up_sets_activity_and_reminds_once(api, app, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    resp = api.post("/api/v1/follow-ups", "alice", json={"customer_id": c["id"], "type": "call", "content": "intro",
                                                         "next_follow_up_date": "2026-12-01", "satisfaction": 4})
    assert resp.status_code == 201
    resp = api.post("/api/v1/follow-ups", "alice", json={"customer_id": c["id"], "type": "fax", "content": ""})
    assert resp.status_code == 422 and set(fields_of(resp)) == {"type", "content"}
    resp = api.post("/api/v1/follow-ups", "carol", json={"customer_id": c["id"], "type": "call", "content": "x"})
    assert resp.status_code == 422 and fields_of(resp) == ["customer_id"]
    assert api.get(f"{C}/{c['id']}", "alice").get_json()["last_follow_up_at"] is not None
    assert api.get("/api/v1/follow-ups", "alice").get_json()["total"] == 1
    assert api.get("/api/v1/follow-ups", "carol").get_json()["total"] == 0
    from oa.record_models import Notification
    with app.app_context():
        assert fire_due_follow_up_reminders(db.session, datetime(2026, 11, 30, 9)) == 0
        assert fire_due_follow_up_reminders(db.session, datetime(2026, 12, 1, 9)) == 1
        db.session.commit()
        assert fire_due_follow_up_reminders(db.session, datetime(2026, 12, 2, 9)) == 0
        db.session.commit()
        notes = db.session.scalars(select(Notification).where(Notification.user == "alice")).all()
        assert len(notes) == 1 and c["name"] in notes[0].title
    sat = api.get(f"{C}/{c['id']}/satisfaction", "alice").get_json()
    assert sat["average"] == 4.0 and sat["from_follow_ups"] == 1


def test_contract_plans_payments_never_exceed_outstanding_and_earn_points(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    k = crm.contract("alice", c["id"], amount=1000)
    resp = api.post("/api/v1/receivables", "alice", json={"contract_id": k["id"], "due_date": "2026-01-31",
                                                          "amount": 600})
    plan = resp.get_json()
    assert resp.status_code == 201 and plan["overdue"] is True
    resp = api.post("/api/v1/receivables", "alice", json={"contract_id": k["id"], "due_date": "2027-01-31",
                                                          "amount": 401})
    assert resp.status_code == 422 and fields_of(resp) == ["amount"]
    resp = api.post("/api/v1/receivables", "erin", json={"contract_id": k["id"], "due_date": "2027-01-31",
                                                          "amount": 1})
    assert resp.status_code == 422 and fields_of(resp) == ["contract_id"]
    pay = f"/api/v1/contracts/{k['id']}/payments"
    assert api.post(pay, "carol", json={"amount": 700, "plan_id": plan["id"]}).status_code == 422
    assert api.post(pay, "carol", json={"amount": 350, "plan_id": plan["id"], "paid_on": "2026-01-30"}).status_code \
        == 201
    assert api.post(pay, "carol", json={"amount": 649.99}).status_code == 201
    resp = api.post(pay, "carol", json={"amount": 0.02})
    assert resp.status_code == 422 and fields_of(resp) == ["amount"]
    assert api.post(pay, "carol", json={"amount": -5}).status_code == 422
    assert api.post(pay, "erin", json={"amount": 0.01}).status_code == 404
    detail = api.get(f"/api/v1/contracts/{k['id']}", "alice").get_json()
    assert detail["paid_amount"] == 999.99 and detail["outstanding"] == 0.01 and len(detail["payments"]) == 2
    assert detail["plans"][0]["paid_amount"] == 600.0  # 350 named, then 250 of the unnamed 649.99
    # 350 -> 3 points, 649.99 -> 6 points
    pts = api.get(f"{C}/{c['id']}/points", "alice").get_json()
    assert pts["balance"] == 9 and sorted(e["delta"] for e in pts["entries"]) == [3, 6]
    assert api.post(f"{C}/{c['id']}/points/redeem", "alice", json={"points": 10, "reward": "mug"}).status_code == 409
    resp = api.post(f"{C}/{c['id']}/points/redeem", "alice", json={"points": 9, "reward": "mug"})
    assert resp.status_code == 201 and resp.get_json()["balance"] == 0
    assert api.post(f"{C}/{c['id']}/points/redeem", "alice", json={"points": 0, "reward": "x"}).status_code == 422
    draft = crm.contract("alice", c["id"], amount=50, status="draft")
    assert api.post(f"/api/v1/contracts/{draft['id']}/payments", "carol", json={"amount": 1}).status_code == 409
    assert api.get("/api/v1/contracts", "erin").get_json()["total"] == 0
    # the unnamed payment filled the overdue plan first, so nothing is overdue any more
    assert api.get("/api/v1/receivables", "alice", query_string={"overdue": "true"}).get_json()["total"] == 0


def test_tickets_sla_handoff_history_and_hook(api, app, crm) -> None:  # noqa: ANN001
    from crm import tickets
    seen: list[int] = []
    def hook(session, t) -> None:  # noqa: ANN001
        seen.append(t.priority)

    tickets.ON_TICKET_CREATED.append(hook)
    try:
        c = crm.customer("alice")
        resp = api.post("/api/v1/tickets", "alice", json={"customer_id": c["id"], "title": "Broken", "priority": "high",
                                                          "kind": "complaint"})
    finally:
        tickets.ON_TICKET_CREATED.remove(hook)
    t = resp.get_json()
    assert resp.status_code == 201 and seen == ["high"]  # the app's own hooks (escalation) ran as well
    created = datetime.fromisoformat(t["created_at"])
    assert (datetime.fromisoformat(t["sla_due_at"]) - created).total_seconds() == 8 * 3600
    assert api.post("/api/v1/tickets", "alice", json={"customer_id": c["id"], "title": "x", "priority": "asap"}) \
        .status_code == 422
    assert api.get(f"/api/v1/tickets/{t['id']}", "carol").status_code == 404
    resp = api.post(f"/api/v1/tickets/{t['id']}/handoff", "alice", json={"team": "service", "assignee": "erin",
                                                                         "note": "needs a technician"})
    assert resp.status_code == 200 and resp.get_json()["assignee"] == "erin"
    # erin (service) now sees the ticket with its history and the customer's history
    detail = api.get(f"/api/v1/tickets/{t['id']}", "erin").get_json()
    assert [h["action"] for h in detail["history"]][:1] == ["create"]
    assert any(h["action"] == "handoff" and h["field"] == "note" for h in detail["history"])
    assert "customer_history" in detail
    resp = api.post(f"/api/v1/tickets/{t['id']}/close", "erin", json={"outcome": "replaced part", "satisfaction": 2})
    assert resp.status_code == 200 and resp.get_json()["status"] == "closed"
    assert api.post(f"/api/v1/tickets/{t['id']}/close", "erin", json={"outcome": "again"}).status_code == 409
    assert api.get(f"{C}/{c['id']}/satisfaction", "alice").get_json()["from_tickets"] == 1


def _call(app, name: str, params: dict, started_by: str = "alice"):  # noqa: ANN001, ANN202
    with app.app_context():
        op = get_engine().services.get(name)
        result = op.func(ServiceCall(params=params, instance_id=None, business_key=None, started_by=started_by,
                                     session=db.session))
        db.session.commit()
        return result


def test_service_operations(api, app, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    o = crm.opportunity("alice", c["id"], amount=2500)
    with app.app_context():
        names = get_engine().services.names()
    assert {"crm.mark_opportunity_won", "crm.create_visit_plan", "crm.add_follow_up",
            "crm.record_ticket_outcome"} <= set(names)
    first = _call(app, "crm.mark_opportunity_won", {"opportunity_id": o["id"], "contract_title": "Deal A"})
    again = _call(app, "crm.mark_opportunity_won", {"opportunity_id": str(o["id"])})
    assert first["contract_id"] == again["contract_id"]
    _call(app, "crm.create_visit_plan", {"customer_id": c["id"], "visit_date": "2026-12-03", "purpose": "demo"})
    _call(app, "crm.add_follow_up", {"customer_id": c["id"], "user": "alice", "type": "visit", "content": "visited"})
    t = api.post("/api/v1/tickets", "alice", json={"customer_id": c["id"], "title": "Q"}).get_json()
    _call(app, "crm.record_ticket_outcome", {"ticket_id": t["id"], "outcome": "answered", "user": "alice"})
    with app.app_context():
        assert db.session.get(Opportunity, o["id"]).status == "won"
        contracts = db.session.scalars(select(Contract).where(Contract.opportunity_id == o["id"])).all()
        assert len(contracts) == 1 and contracts[0].title == "Deal A" and float(contracts[0].amount) == 2500
        assert db.session.scalar(select(VisitPlan.purpose)) == "demo"
        assert db.session.scalar(select(FollowUp.content)) == "visited"
        assert db.session.get(Ticket, t["id"]).status == "closed"
    from store.errors import InvalidData, NotFound
    for params, err in (({"opportunity_id": "abc"}, InvalidData), ({"opportunity_id": 99999}, NotFound)):
        try:
            _call(app, "crm.mark_opportunity_won", params)
        except err:
            pass
        else:
            raise AssertionError("expected an error")
