"""Fixes from the new-user walkthrough of sales orders (#16): finance reads orders, invoices and customer sales
company-wide (read only); the invoice records who completed the invoice task."""

from __future__ import annotations

from datetime import date

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
