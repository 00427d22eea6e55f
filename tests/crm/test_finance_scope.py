"""Finance (carol, group `finance`) reads every contract, receivable plan and payment and records payments on any
contract, audited with her name; her other write access is unchanged, and nobody else gains anything."""

from __future__ import annotations

from sqlalchemy import select

from api.extensions import db


def test_finance_records_a_payment_on_someone_elses_contract(api, app, crm) -> None:  # noqa: ANN001
    customer = crm.customer("alice")
    contract = crm.contract("alice", customer["id"], amount=1000)
    resp = api.post("/api/v1/receivables", "alice", json={"contract_id": contract["id"], "due_date": "2026-12-20",
                                                          "amount": 600})
    assert resp.status_code == 201, resp.get_json()
    plan_id = resp.get_json()["id"]
    assert api.get(f"/api/v1/contracts/{contract['id']}", "carol").status_code == 200
    listed = api.get("/api/v1/contracts", "carol").get_json()
    assert contract["id"] in [c["id"] for c in listed["items"]]
    plans = api.get("/api/v1/receivables", "carol", query_string={"contract_id": contract["id"]}).get_json()
    assert [p["id"] for p in plans["items"]] == [plan_id]
    resp = api.post(f"/api/v1/contracts/{contract['id']}/payments", "carol", json={"amount": 250})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["recorded_by"] == "carol"
    detail = api.get(f"/api/v1/contracts/{contract['id']}", "carol").get_json()
    assert (detail["paid_amount"], [p["recorded_by"] for p in detail["payments"]]) == (250, ["carol"])
    from crm.models import AuditEntry
    with app.app_context():
        actors = db.session.scalars(select(AuditEntry.user).where(AuditEntry.entity == "contract",
                                                                AuditEntry.entity_id == contract["id"],
                                                                AuditEntry.action == "payment").distinct()).all()
        assert actors == ["carol"]


def test_finance_writes_nothing_else_and_others_gain_nothing(api, crm) -> None:  # noqa: ANN001
    customer = crm.customer("alice")
    contract = crm.contract("alice", customer["id"], amount=1000)
    assert crm.patch(f"/api/v1/customers/{customer['id']}", "carol", {"level": "A"}).status_code in (403, 404)
    assert crm.patch(f"/api/v1/contracts/{contract['id']}", "carol", {"title": "mine"}).status_code == 403
    resp = api.post("/api/v1/receivables", "carol", json={"contract_id": contract["id"], "due_date": "2026-12-20",
                                                          "amount": 100})
    assert resp.status_code in (403, 422), resp.get_json()
    bobs = crm.contract("bob", crm.customer("bob")["id"])
    assert api.get(f"/api/v1/contracts/{bobs['id']}", "alice").status_code == 404
    assert bobs["id"] not in [c["id"] for c in api.get("/api/v1/contracts", "alice").get_json()["items"]]
    assert api.post(f"/api/v1/contracts/{bobs['id']}/payments", "alice", json={"amount": 1}).status_code == 404
    assert api.get(f"/api/v1/contracts/{bobs['id']}", "carol").status_code == 200
