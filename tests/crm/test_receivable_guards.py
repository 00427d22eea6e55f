"""The receivable a confirmed order leaves behind is finance's: a rep neither records payments nor closes,
re-drafts or shrinks the contract (the debt finance checks credit against would vanish); an old owner after a
transfer changes nothing; the customer's balance and the receivables list agree."""

from __future__ import annotations

from tests.crm.conftest import Crm
from tests.crm.sales_helpers import complete, get_order, order, product, submit


def _confirmed(api, crm: Crm) -> tuple[dict, dict]:  # noqa: ANN001
    """A confirmed order of alice's customer (total 11,300 with tax) and that customer."""
    c = crm.customer("alice")
    p = product(api, "RG-1", 1_000)
    o = submit(api, "alice", order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 10}])["id"])
    complete(api, "bob", "sales_head_approval", o["instance_id"], approved=True)
    o = get_order(api, "alice", o["id"])
    assert o["status"] == "confirmed" and o["contract_id"], o
    return o, c


def test_only_finance_records_payments(api) -> None:  # noqa: ANN001
    crm = Crm(api)
    o, c = _confirmed(api, crm)
    pay = f"/api/v1/contracts/{o['contract_id']}/payments"
    resp = api.post(pay, "alice", json={"amount": 11_300})  # the rep who owns it
    assert resp.status_code == 403, resp.get_json()
    assert api.post(pay, "bob", json={"amount": 1}).status_code == 403  # her manager neither
    assert api.post(pay, "erin", json={"amount": 1}).status_code == 404  # cannot even read it
    before = api.get(f"/api/v1/customers/{c['id']}/sales", "carol").get_json()["outstanding"]
    assert before == 11_300
    assert api.post(pay, "carol", json={"amount": 300}).status_code == 201
    assert api.post(pay, "admin", json={"amount": 1_000}).status_code == 201
    assert api.get(f"/api/v1/customers/{c['id']}/sales", "alice").get_json()["outstanding"] == 10_000
    # a hand-made contract with no plans or payments yet: still not the rep's to pay
    own = crm.contract("alice", c["id"], amount=500)
    assert api.post(f"/api/v1/contracts/{own['id']}/payments", "alice", json={"amount": 5}).status_code == 403


def test_a_rep_cannot_make_an_orders_debt_disappear(api) -> None:  # noqa: ANN001
    crm = Crm(api)
    o, c = _confirmed(api, crm)
    k = f"/api/v1/contracts/{o['contract_id']}"
    for body in ({"status": "closed"}, {"status": "draft"}, {"amount": 1}, {"amount": 11_300, "title": "x"}):
        resp = crm.patch(k, "alice", body)
        assert resp.status_code == 403, (body, resp.get_json())
        assert crm.patch(k, "bob", body).status_code == 403
    assert crm.patch(k, "alice", {"title": "Renamed"}).status_code == 200  # the wording stays hers
    detail = api.get(k, "alice").get_json()
    assert (detail["status"], detail["amount"], detail["title"]) == ("active", 11_300, "Renamed")
    sales = api.get(f"/api/v1/customers/{c['id']}/sales", "alice").get_json()
    plans = api.get("/api/v1/receivables", "alice", query_string={"contract_id": o["contract_id"]}).get_json()
    assert sales["outstanding"] == sum(p["outstanding"] for p in plans["items"]) == 11_300
    # finance may close it (a write-off), and then both views drop it
    assert crm.patch(k, "carol", {"status": "closed"}).status_code == 200
    assert crm.patch(k, "carol", {"title": "finance's"}).status_code == 403
    assert api.get(f"/api/v1/customers/{c['id']}/sales", "alice").get_json()["outstanding"] == 0


def test_a_contract_with_plans_is_finances_too_and_the_old_owner_loses_it(api) -> None:  # noqa: ANN001
    crm = Crm(api)
    c = crm.customer("alice")
    k = crm.contract("alice", c["id"], amount=1_000)
    assert crm.patch(f"/api/v1/contracts/{k['id']}", "alice", {"amount": 2_000}).status_code == 200  # no plans yet
    resp = api.post("/api/v1/receivables", "alice", json={"contract_id": k["id"], "due_date": "2026-12-20",
                                                          "amount": 600})
    assert resp.status_code == 201
    assert crm.patch(f"/api/v1/contracts/{k['id']}", "alice", {"status": "closed"}).status_code == 403
    assert api.post(f"/api/v1/customers/{c['id']}/transfer", "admin", json={"to": "bob"}).status_code == 200
    assert crm.patch(f"/api/v1/contracts/{k['id']}", "alice", {"title": "still mine?"}).status_code in (403, 404)
    assert api.post(f"/api/v1/contracts/{k['id']}/payments", "alice", json={"amount": 1}).status_code in (403, 404)


def test_an_invoice_is_dated_between_the_confirmation_and_a_month_ahead(api) -> None:  # noqa: ANN001
    from datetime import date, timedelta

    from tests.crm.conftest import fields_of
    from tests.crm.sales_helpers import task
    crm = Crm(api)
    o, _c = _confirmed(api, crm)
    today = date.today()
    for bad in ("9999-12-31", "0001-01-01", (today - timedelta(days=2)).isoformat(),
                (today + timedelta(days=33)).isoformat()):
        resp = api.post("/api/v1/invoices", "carol", json={"order_id": o["id"], "amount": 100, "issued_on": bad})
        assert resp.status_code == 422 and fields_of(resp) == ["issued_on"], (bad, resp.get_json())
        found = task(api, "carol", "invoice_request", o["instance_id"])
        resp = api.post(f"/api/v1/tasks/{found['id']}/complete", "carol", json={"variables": {"issued_on": bad}})
        assert resp.status_code == 422, (bad, resp.get_json())
    assert api.get("/api/v1/invoices", "carol", query_string={"order_id": o["id"]}).get_json()["total"] == 0
    ahead = (today + timedelta(days=30)).isoformat()
    resp = api.post("/api/v1/invoices", "carol", json={"order_id": o["id"], "amount": 100, "issued_on": ahead})
    assert resp.status_code == 201 and resp.get_json()["issued_on"] == ahead
    resp = api.post("/api/v1/invoices", "carol", json={"order_id": o["id"], "amount": 100,
                                                       "issued_on": today.isoformat()})
    assert resp.status_code == 201
