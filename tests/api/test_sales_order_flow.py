"""End to end: quote -> order -> approval (finance rejects with a reason, the rep revises and resubmits) ->
confirmed (receivable plans, opportunity won) -> invoice -> payment -> the customer's balance; events and audit
on the way, and the checks an attacker would try."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from api.extensions import db
from tests.crm.conftest import Crm, fields_of
from tests.crm.sales_helpers import complete, get_order, product, submit, task


def _events(app) -> list[tuple[str, dict]]:  # noqa: ANN001
    from engine.models import WebhookDelivery
    with app.app_context():
        rows = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        return [(r.event, r.payload) for r in rows]


def _hook(app, owner: str) -> None:  # noqa: ANN001
    from engine.models import Webhook
    with app.app_context():
        db.session.add(Webhook(url=f"http://127.0.0.1:9/{owner}", events=None, secret="s", created_by=owner))
        db.session.commit()


def test_order_goes_through_approval_to_receivable_payment_and_balance(api, app) -> None:  # noqa: ANN001
    crm = Crm(api)
    _hook(app, "admin")
    c = crm.customer("alice")
    assert crm.put(f"/api/v1/customers/{c['id']}/credit-limit", "alice", {"credit_limit": 1}).status_code == 403
    assert crm.put(f"/api/v1/customers/{c['id']}/credit-limit", "carol",
                   {"credit_limit": 150_000}).status_code == 200
    crm.contract("alice", c["id"], amount=20_000)  # an open receivable finance must see
    opp = crm.opportunity("alice", c["id"], amount=100_000)
    p = product(api, "SRV-1", 10_000)
    q = api.post("/api/v1/quotes", "alice", json={"opportunity_id": opp["id"], "lines": [
        {"product_id": p["id"], "quantity": 10, "discount": 15}]}).get_json()
    o = api.post(f"/api/v1/quotes/{q['id']}/order", "alice", json={"payment_terms": "30_70"}).get_json()
    assert o["total"] == 96_050.0  # 100,000 - 15% = 85,000 + 13% tax

    # another rep cannot start the approval of alice's order, not even through the generic start
    sneaky = api.post("/api/v1/process-definitions/sales_order_approval/start", "carol",
                      json={"variables": {"order_id": o["id"]}})
    assert sneaky.status_code == 422 and fields_of(sneaky) == ["order_id"]

    o = submit(api, "alice", o["id"])
    inst = o["instance_id"]
    assert o["status"] == "pending" and o["round"] == 1 and inst
    assert api.post(f"/api/v1/orders/{o['id']}/submit", "alice", json={}).status_code == 409
    generic = api.post("/api/v1/process-definitions/sales_order_approval/start", "alice",
                       json={"variables": {"order_id": o["id"]}})
    assert generic.status_code == 422 and fields_of(generic) == ["order_id"]  # only drafts start the flow
    assert crm.patch(f"/api/v1/orders/{o['id']}", "alice", {"note": "x"}).status_code == 409
    detail = api.get(f"/api/v1/process-instances/{inst}", "admin").get_json()
    assert detail["business_key"] == f"order:{o['id']}"
    assert detail["variables"]["chain"] == "sales_head,finance"  # discount above 10%, total below 100,000

    complete(api, "bob", "sales_head_approval", inst, approved=True)
    fin = task(api, "carol", "finance_review", inst)
    credit = api.get(f"/api/v1/tasks/{fin['id']}", "carol").get_json()["variables"]["credit"]
    assert credit == {"credit_limit": 150_000.0, "outstanding": 20_000.0, "after_order": 116_050.0,
                      "within_limit": True}
    no_reason = api.post(f"/api/v1/tasks/{fin['id']}/complete", "carol", json={"variables": {"approved": False}})
    assert no_reason.status_code == 422
    complete(api, "carol", "finance_review", inst, approved=False, comment="discount too deep")
    o = get_order(api, "alice", o["id"])
    assert o["status"] == "rejected"
    assert [(r["round"], r["outcome"], r["reason"]) for r in o["rounds"]] == [(1, "rejected", "discount too deep")]

    # the rep revises (more items, 5% off: total above 100,000 now needs the GM) and resubmits
    resp = crm.patch(f"/api/v1/orders/{o['id']}", "alice", {"lines": [
        {"product_id": p["id"], "quantity": 10, "discount": 5}]})
    assert resp.status_code == 200 and resp.get_json()["total"] == 107_350.0
    complete(api, "alice", "revise", inst, resubmit=True, comment="5% only")
    o = get_order(api, "alice", o["id"])
    assert o["status"] == "pending" and o["round"] == 2
    assert api.get(f"/api/v1/process-instances/{inst}", "admin").get_json()["variables"]["chain"] == \
        "sales_head,finance,general_manager"
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    complete(api, "carol", "finance_review", inst, approved=True)
    complete(api, "dave", "gm_approval", inst, approved=True)

    o = get_order(api, "alice", o["id"])
    assert o["status"] == "confirmed" and o["contract_id"]
    assert [(r["round"], r["outcome"]) for r in o["rounds"]] == [(1, "rejected"), (2, "approved")]
    assert api.get(f"/api/v1/opportunities/{opp['id']}", "alice").get_json()["status"] == "won"
    contract = api.get(f"/api/v1/contracts/{o['contract_id']}", "alice").get_json()
    today = date.today()
    assert contract["amount"] == 107_350.0 and contract["status"] == "active"
    assert [(pl["due_date"], pl["amount"]) for pl in contract["plans"]] == [
        (today.isoformat(), 32_205.0), ((today + timedelta(days=60)).isoformat(), 75_145.0)]

    # finance gets the invoice request as a task
    complete(api, "carol", "invoice_request", inst, issued_on=today.isoformat())
    invoices = api.get(f"/api/v1/invoices?order_id={o['id']}", "alice").get_json()["items"]
    assert [(i["amount"], i["tax"], i["number"]) for i in invoices] == [
        (107_350.0, 12_350.0, f"INV-{today.year}-0001")]
    assert api.get(f"/api/v1/process-instances/{inst}", "admin").get_json()["status"] == "completed"

    # the customer pays the first instalment
    paid = api.post(f"/api/v1/contracts/{o['contract_id']}/payments", "carol", json={"amount": 32_205})
    assert paid.status_code == 201, paid.get_json()
    sales = api.get(f"/api/v1/customers/{c['id']}/sales", "alice").get_json()
    assert [x["number"] for x in sales["orders"]] == [o["number"]]
    assert len(sales["invoices"]) == 1 and [x["amount"] for x in sales["payments"]] == [32_205.0]
    assert sales["outstanding"] == 20_000 + 75_145.0 and sales["credit_limit"] == 150_000.0
    assert api.get(f"/api/v1/customers/{c['id']}/sales", "carol").status_code == 200  # finance reads balances
    assert api.get(f"/api/v1/customers/{c['id']}/sales", "frank").status_code == 404
    detail = api.get(f"/api/v1/customers/{c['id']}", "alice").get_json()
    assert (detail["outstanding"], detail["credit_limit"], detail["orders"], detail["invoices"]) == (
        95_145.0, 150_000.0, 1, 1)

    month = today.strftime("%Y-%m")
    trend = api.get("/api/v1/reports/sales-trend", "alice").get_json()["months"]
    assert [(m["month"], m["orders"], m["order_total"], m["payments"]) for m in trend] == [
        (month, 1, 107_350.0, 32_205.0)]
    cycle = api.get("/api/v1/reports/order-cycle", "bob").get_json()["rows"]
    assert [(r["team"], r["orders_confirmed"], r["won_revenue"]) for r in cycle] == [("Sales", 1, 107_350.0)]

    events = [e for e, _ in _events(app) if e.startswith(("order.", "invoice."))]
    assert events == ["order.submitted", "order.rejected", "order.submitted", "order.approved", "order.confirmed",
                      "invoice.issued"]
    trail = api.get(f"/api/v1/audit?entity=order&id={o['id']}", "alice").get_json()["items"]
    assert {t["action"] for t in trail} >= {"create", "submit", "reject", "update", "confirm", "invoice"}


def test_a_rep_who_gives_up_cancels_the_order(api) -> None:  # noqa: ANN001
    crm = Crm(api)
    c = crm.customer("alice")
    p = product(api, "A", 10)
    o = api.post("/api/v1/orders", "alice", json={"customer_id": c["id"], "lines": [
        {"product_id": p["id"], "quantity": 1}]}).get_json()
    inst = submit(api, "alice", o["id"])["instance_id"]
    assert task(api, "carol", "finance_review", inst) is None  # small order: the sales head alone
    complete(api, "bob", "sales_head_approval", inst, approved=False, comment="wrong customer")
    complete(api, "alice", "revise", inst, resubmit=False)
    assert get_order(api, "alice", o["id"])["status"] == "cancelled"
    assert api.post(f"/api/v1/orders/{o['id']}/submit", "alice", json={}).status_code == 409
    generic = api.post("/api/v1/process-definitions/sales_order_approval/start", "alice",
                       json={"variables": {"order_id": o["id"]}})
    assert generic.status_code == 422 and fields_of(generic) == ["order_id"]  # only drafts start the flow


def test_order_events_reach_only_webhook_owners_who_may_read_the_customer(api, app) -> None:  # noqa: ANN001
    from api.webhook_policy import owner_may_see
    crm = Crm(api)
    c = crm.customer("alice")
    payload = {"order_id": 1, "customer_id": c["id"], "instance_id": None}
    with app.app_context():
        assert owner_may_see(app, db.session, "alice", "order.confirmed", payload)
        assert owner_may_see(app, db.session, "bob", "invoice.issued", payload)  # her manager
        assert not owner_may_see(app, db.session, "carol", "order.confirmed", payload)
        assert not owner_may_see(app, db.session, "carol", "order.confirmed", {**payload, "customer_id": True})
        assert not owner_may_see(app, db.session, "alice", "other.event", payload)


def test_openapi_documents_the_sales_request_bodies(api) -> None:  # noqa: ANN001
    spec = api.get("/api/v1/openapi.json", "alice").get_json()
    body = spec["paths"]["/api/v1/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/OrderIn")
    assert "lines" in spec["components"]["schemas"]["OrderIn"]["properties"]
    assert "requestBody" in spec["paths"]["/api/v1/quotes/{quote_id}/order"]["post"]


def test_concurrent_submissions_start_one_approval(api, app) -> None:  # noqa: ANN001
    import threading

    from tests.conftest import run_in_threads
    crm = Crm(api)
    c = crm.customer("alice")
    p = product(api, "A", 10)
    o = api.post("/api/v1/orders", "alice", json={"customer_id": c["id"], "lines": [
        {"product_id": p["id"], "quantity": 1}]}).get_json()
    headers = api.headers("alice")
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def go(_i: int) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(f"/api/v1/orders/{o['id']}/submit", json={}, headers=headers).status_code)

    run_in_threads(4, go)
    assert sorted(statuses)[0] == 200 and statuses.count(200) == 1, statuses
    assert all(s in (200, 409, 422) for s in statuses), statuses
    o = get_order(api, "alice", o["id"])
    assert o["status"] == "pending" and o["round"] == 1 and len(o["rounds"]) == 1


def test_manual_invoices_are_for_finance_and_capped_by_the_order(api) -> None:  # noqa: ANN001
    crm = Crm(api)
    c = crm.customer("alice")
    p = product(api, "A", 100)
    o = api.post("/api/v1/orders", "alice", json={"customer_id": c["id"], "lines": [
        {"product_id": p["id"], "quantity": 1}]}).get_json()
    assert api.post("/api/v1/invoices", "carol", json={"order_id": o["id"]}).status_code == 409  # a draft
    unknown = api.post("/api/v1/invoices", "carol", json={"order_id": 999999})
    assert unknown.status_code == 422 and fields_of(unknown) == ["order_id"]
    inst = submit(api, "alice", o["id"])["instance_id"]
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    assert api.post("/api/v1/invoices", "alice", json={"order_id": o["id"]}).status_code == 403
    part = api.post("/api/v1/invoices", "carol", json={"order_id": o["id"], "amount": 100})
    assert part.status_code == 201 and part.get_json()["tax"] == 11.5  # its share of 13.00 tax on 113.00
    over = api.post("/api/v1/invoices", "carol", json={"order_id": o["id"], "amount": 13.01})
    assert over.status_code == 422 and fields_of(over) == ["amount"]
    assert api.post("/api/v1/invoices", "carol", json={"order_id": o["id"]}).get_json()["amount"] == 13.0
