"""The satisfaction the rep records when confirming an escalated ticket lands on the ticket, on the follow-up the
flow writes, and once in the customer's average satisfaction (end to end through the shipped ticket_escalation)."""

from __future__ import annotations

from sqlalchemy import select

from api.extensions import db


def _task(api, user: str, element_id: str, instance_id: int, candidate: bool = False) -> dict:  # noqa: ANN001
    tasks = api.tasks(user, **({"candidate": "me"} if candidate else {}))
    found = [t for t in tasks if t["element_id"] == element_id and t["instance_id"] == instance_id]
    assert found, (user, element_id, tasks)
    return found[0]


def _complete(api, user: str, task: dict, **variables) -> None:  # noqa: ANN001, ANN003
    resp = api.post(f"/api/v1/tasks/{task['id']}/complete", user, json={"variables": variables})
    assert resp.status_code == 200, resp.get_json()


def test_confirmed_satisfaction_lands_on_ticket_follow_up_and_customer_average(api, app, crm) -> None:  # noqa: ANN001
    from crm.models import FollowUp
    c = crm.customer("alice")
    resp = api.post("/api/v1/follow-ups", "alice", json={"customer_id": c["id"], "type": "call",
                                                         "content": "Quarterly check", "satisfaction": 4})
    assert resp.status_code == 201, resp.get_json()
    resp = api.post("/api/v1/tickets", "alice", json={"customer_id": c["id"], "title": "Line down",
                                                      "priority": "urgent"})
    ticket = resp.get_json()
    inst = api.get("/api/v1/process-instances", "admin",
                   query_string={"business_key": f"ticket:{ticket['id']}"}).get_json()["items"][0]["id"]
    _complete(api, "dave", _task(api, "dave", "triage", inst, candidate=True), department="finance")
    _complete(api, "carol", _task(api, "carol", "resolve", inst, candidate=True), resolution="Restarted")
    # the customer is not satisfied yet: back to resolve, nothing is recorded
    _complete(api, "alice", _task(api, "alice", "confirm", inst), customer_satisfied=False, satisfaction=1)
    assert api.get(f"/api/v1/tickets/{ticket['id']}", "alice").get_json()["satisfaction"] is None
    _complete(api, "carol", _task(api, "carol", "resolve", inst, candidate=True), resolution="Replaced the router")
    _complete(api, "alice", _task(api, "alice", "confirm", inst), customer_satisfied=True, satisfaction=2)

    closed = api.get(f"/api/v1/tickets/{ticket['id']}", "alice").get_json()
    assert (closed["status"], closed["outcome"], closed["satisfaction"]) == ("closed", "Replaced the router", 2)
    with app.app_context():
        rows = db.session.scalars(select(FollowUp).where(FollowUp.customer_id == c["id"])
                                  .order_by(FollowUp.id)).all()
        assert [(f.satisfaction, f.ticket_id) for f in rows] == [(4, None), (2, ticket["id"])]
    listed = api.get("/api/v1/follow-ups", "alice", query_string={"customer_id": c["id"]}).get_json()["items"]
    assert sorted((f["satisfaction"], f["ticket_id"] or 0) for f in listed) == [(2, ticket["id"]), (4, 0)]
    sat = api.get(f"/api/v1/customers/{c['id']}/satisfaction", "alice").get_json()
    assert (sat["count"], sat["average"]) == (2, 3.0)  # the ticket's score counts once, not twice
    assert api.get(f"/api/v1/customers/{c['id']}/satisfaction", "carol").status_code == 404


def test_satisfaction_closed_by_hand_counts_and_bad_scores_are_refused(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    t = api.post("/api/v1/tickets", "alice", json={"customer_id": c["id"], "title": "Question"}).get_json()
    resp = api.post(f"/api/v1/tickets/{t['id']}/close", "alice", json={"outcome": "Answered", "satisfaction": 9})
    assert resp.status_code == 422
    resp = api.post(f"/api/v1/tickets/{t['id']}/close", "alice", json={"outcome": "Answered", "satisfaction": 5})
    assert resp.status_code == 200, resp.get_json()
    sat = api.get(f"/api/v1/customers/{c['id']}/satisfaction", "alice").get_json()
    assert (sat["count"], sat["average"], sat["from_tickets"]) == (1, 5.0, 1)


def test_follow_up_operation_refuses_another_customers_ticket_and_bad_scores(api, app, crm) -> None:  # noqa: ANN001
    import pytest

    from engine.services import ServiceCall
    from store.errors import InvalidData
    c1, c2 = crm.customer("alice"), crm.customer("alice")
    t = api.post("/api/v1/tickets", "alice", json={"customer_id": c2["id"], "title": "Question"}).get_json()
    with app.app_context():
        op = app.extensions["oaflow_engine"].services.get("crm.add_follow_up")
        for params, field in (({"ticket_id": t["id"]}, "ticket_id"), ({"satisfaction": 6}, "satisfaction"),
                              ({"satisfaction": "many"}, "satisfaction")):
            call = ServiceCall(params={"customer_id": c1["id"], "content": "x", **params}, instance_id=None,
                               business_key=None, started_by="alice", session=db.session)
            with pytest.raises(InvalidData) as err:
                op.func(call)
            assert [e["field"] for e in err.value.errors] == [field]
            db.session.rollback()
