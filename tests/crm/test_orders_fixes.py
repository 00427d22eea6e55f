"""Fixes from the new-user walkthrough of sales orders (#16): finance reads orders, invoices and customer sales
company-wide (read only); the invoice records who completed the invoice task."""

from __future__ import annotations

from datetime import date

from tests.crm.conftest import fields_of
from tests.crm.sales_helpers import complete, order, product, submit


def _confirmed_and_invoiced(api, crm) -> tuple[dict, dict]:  # noqa: ANN001
    """A customer of alice's with an order approved by bob and invoiced by carol (finance)."""
    c = crm.customer("alice")
    p = product(api, "FIX-1", 1_000)
    o = submit(api, "alice", order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 2}])["id"])
    complete(api, "bob", "sales_head_approval", o["instance_id"], approved=True)
    complete(api, "carol", "invoice_request", o["instance_id"], issued_on=date.today().isoformat())
    return c, o


def test_finance_reads_the_orders_invoices_and_sales_it_works_on_but_cannot_change_them(api, crm) -> None:  # noqa: ANN001
    c, o = _confirmed_and_invoiced(api, crm)
    invoices = api.get("/api/v1/invoices", "carol").get_json()["items"]
    assert [i["order_id"] for i in invoices] == [o["id"]]
    assert api.get(f"/api/v1/invoices/{invoices[0]['id']}", "carol").status_code == 200
    assert [x["id"] for x in api.get("/api/v1/orders", "carol").get_json()["items"]] == [o["id"]]
    assert api.get(f"/api/v1/orders/{o['id']}", "carol").get_json()["status"] == "confirmed"
    sales = api.get(f"/api/v1/customers/{c['id']}/sales", "carol")
    assert sales.status_code == 200, sales.get_json()
    assert [x["id"] for x in sales.get_json()["orders"]] == [o["id"]] and len(sales.get_json()["invoices"]) == 1
    # read only: finance does not edit another rep's order, and a rep outside finance still sees nothing
    assert crm.patch(f"/api/v1/orders/{o['id']}", "carol", {"note": "x"}).status_code == 403
    assert api.get("/api/v1/invoices", "frank").get_json()["items"] == []
    assert api.get(f"/api/v1/orders/{o['id']}", "frank").status_code == 404
    assert api.get(f"/api/v1/customers/{c['id']}/sales", "frank").status_code == 404
    assert api.get("/api/v1/customers/999999/sales", "carol").status_code == 404


def test_the_invoice_names_the_finance_user_who_issued_it(api, crm) -> None:  # noqa: ANN001
    _c, o = _confirmed_and_invoiced(api, crm)
    invoices = api.get(f"/api/v1/invoices?order_id={o['id']}", "alice").get_json()["items"]
    assert [i["issued_by"] for i in invoices] == ["carol"]


def _confirm_on(api, crm, c: dict, opp: dict, quantity: int) -> dict:  # noqa: ANN001
    p = product(api, f"FIX-O{quantity}", 1_000)
    o = submit(api, "alice", order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": quantity}],
                                   opportunity_id=opp["id"])["id"])
    complete(api, "bob", "sales_head_approval", o["instance_id"], approved=True)
    return o


def test_a_confirmed_order_wins_its_opportunity_for_the_order_total_and_the_reports_agree(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    opp = crm.opportunity("alice", c["id"], amount=20_000)
    o = _confirm_on(api, crm, c, opp, 30)
    total = api.get(f"/api/v1/orders/{o['id']}", "alice").get_json()["total"]
    assert total != 20_000
    won = api.get(f"/api/v1/opportunities/{opp['id']}", "alice").get_json()
    assert (won["status"], won["amount"]) == ("won", total)
    trail = api.get(f"/api/v1/audit?entity=opportunity&id={opp['id']}", "admin").get_json()["items"]
    assert any(t["action"] == "won" and "amount" in str(t) for t in trail)
    rate = api.get("/api/v1/reports/win-rate", "alice").get_json()["by_rep"]
    trend = api.get("/api/v1/reports/sales-trend", "alice").get_json()["months"]
    cycle = api.get("/api/v1/reports/order-cycle", "alice").get_json()["rows"]
    assert [r["won_amount"] for r in rate] == [total]
    assert [m["won_amount"] for m in trend] == [total] and [m["order_total"] for m in trend] == [total]
    assert sum(r["won_revenue"] for r in cycle) == total


def test_no_order_or_quote_on_a_closed_opportunity_and_no_second_confirmation(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    opp = crm.opportunity("alice", c["id"], amount=5_000)
    p = product(api, "FIX-2", 100)
    lines = [{"product_id": p["id"], "quantity": 1}]
    first = order(api, "alice", c["id"], lines, opportunity_id=opp["id"])
    second = order(api, "alice", c["id"], lines, opportunity_id=opp["id"])
    raced = submit(api, "alice", second["id"])  # submitted while the deal is still open
    submit(api, "alice", first["id"])
    complete(api, "bob", "sales_head_approval", first["instance_id"] or
             api.get(f"/api/v1/orders/{first['id']}", "alice").get_json()["instance_id"], approved=True)
    assert api.get(f"/api/v1/opportunities/{opp['id']}", "alice").get_json()["status"] == "won"
    for path, body in (("/api/v1/orders", {"customer_id": c["id"], "lines": lines, "opportunity_id": opp["id"]}),
                       ("/api/v1/quotes", {"opportunity_id": opp["id"], "lines": lines})):
        resp = api.post(path, "alice", json=body)
        assert resp.status_code == 422 and fields_of(resp) == ["opportunity_id"], resp.get_json()
    # the order approved after the deal was won is not confirmed: no second contract on the opportunity
    complete(api, "bob", "sales_head_approval", raced["instance_id"], approved=True)
    assert api.get(f"/api/v1/orders/{second['id']}", "alice").get_json()["status"] != "confirmed"
    contracts = api.get(f"/api/v1/contracts?customer_id={c['id']}", "alice").get_json()["items"]
    assert len(contracts) == 1


def test_submitting_an_order_whose_opportunity_closed_names_the_opportunity(api, crm, app) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    opp = crm.opportunity("alice", c["id"], amount=5_000)
    p = product(api, "FIX-3", 100)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}], opportunity_id=opp["id"])
    with app.app_context():
        from api.extensions import db
        from crm.models import Opportunity
        db.session.get(Opportunity, opp["id"]).status = "lost"
        db.session.commit()
    resp = api.post(f"/api/v1/orders/{o['id']}/submit", "alice", json={})
    assert resp.status_code == 422 and fields_of(resp) == ["opportunity_id"]
    assert api.get(f"/api/v1/orders/{o['id']}", "alice").get_json()["status"] == "draft"


def test_a_rep_with_an_edit_share_cannot_submit_a_colleagues_order_but_the_owners_manager_can(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    assert crm.api.post(f"/api/v1/customers/{c['id']}/shares", "alice",
                        json={"user": "frank", "access": "edit"}).status_code == 201
    p = product(api, "FIX-4", 100)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    assert api.post(f"/api/v1/orders/{o['id']}/submit", "frank", json={}).status_code == 403
    assert api.get(f"/api/v1/orders/{o['id']}", "alice").get_json()["status"] == "draft"
    assert submit(api, "bob", o["id"])["status"] == "pending"  # alice's manager may, and is recorded as submitter
