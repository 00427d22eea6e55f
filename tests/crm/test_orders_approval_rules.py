"""The sales order approval chain (processes/sales_order_approval_chain.dmn): one case per row and per overlap,
on the order total (tax included) and the largest line discount."""

from __future__ import annotations

import pytest

from tests.crm.sales_helpers import order, product, submit

HEAD, FIN, GM = "sales_head", "sales_head,finance", "sales_head,finance,general_manager"


@pytest.mark.parametrize(("total", "discount", "chain"), [
    (50_000, 10, HEAD),              # neither above 50,000 nor above 10%: the sales head alone
    (50_000.01, 0, FIN),             # total row
    (1_000, 10.01, FIN),             # discount row, small total
    (100_000, 0, FIN),               # exactly 100,000 is not above it
    (100_000.01, 0, GM),             # GM row
    (60_000, 15, FIN),               # total and discount rows overlap: finance once
    (200_000, 20, GM),               # GM and discount rows overlap: the strictest chain
])
def test_each_row_and_overlap_of_the_chain_table(api, crm, total: float, discount: float, chain: str) -> None:  # noqa: ANN001
    assert crm.put("/api/v1/crm/settings", "admin", {"tax_rate_bp": 0}).status_code == 200
    c = crm.customer("alice")
    p = product(api, "A", 1)
    gross = round(total / (1 - discount / 100), 2)  # so that the discounted net is the total
    lines = [{"product_id": p["id"], "quantity": 1, "unit_price": gross, "discount": discount}]
    o = order(api, "alice", c["id"], lines)
    if o["total"] != total:  # rounding of the discount: pin the net with a second, undiscounted line
        lines = [{"product_id": p["id"], "quantity": 1, "unit_price": 100, "discount": discount},
                 {"product_id": p["id"], "quantity": 1, "unit_price": round(total - (100 - discount), 2)}]
        o = order(api, "alice", c["id"], lines)
    assert o["total"] == total and o["max_discount"] == discount
    done = submit(api, "alice", o["id"])
    assert done["status"] == "pending"
    variables = api.get(f"/api/v1/process-instances/{done['instance_id']}", "admin").get_json()["variables"]
    assert variables["chain"] == chain


@pytest.mark.parametrize(("list_price", "unit_price", "discount", "effective", "chain"), [
    (18_000, 9_000, 0, 50, FIN),     # a halved unit price is a 50% discount: finance sees it
    (1_000, 900, 0, 10, HEAD),       # exactly 10% below list: the sales head alone
    (1_000, 899, 0, 10.1, FIN),      # just above 10% below list: the discount row
    (1_000, 950, 6, 10.7, FIN),      # 5% off the price and 6% discount make 10.7%
    (1_000, 1_200, 15, 15, FIN),     # a price above list does not hide the stated discount
    (1_000, 1_000, 0, 0, HEAD),      # list price, no discount
])
def test_the_discount_is_measured_against_the_list_price(api, crm, list_price: float, unit_price: float,  # noqa: ANN001
                                                         discount: float, effective: float, chain: str) -> None:
    c = crm.customer("alice")
    p = product(api, "LP", list_price)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1, "unit_price": unit_price,
                                        "discount": discount}])
    assert o["total"] < 50_000 and o["max_discount"] == effective
    done = submit(api, "alice", o["id"])
    variables = api.get(f"/api/v1/process-instances/{done['instance_id']}", "admin").get_json()["variables"]
    assert variables["chain"] == chain


def test_a_line_or_order_worth_nothing_is_refused(api, crm) -> None:  # noqa: ANN001
    from tests.crm.conftest import fields_of
    c = crm.customer("alice")
    p = product(api, "Z", 1)
    resp = api.post("/api/v1/orders", "alice", json={"customer_id": c["id"], "lines": [
        {"product_id": p["id"], "quantity": 0.0005, "unit_price": 0.005}]})
    assert resp.status_code == 422 and fields_of(resp) == ["lines[0].quantity"], resp.get_json()
    resp = api.post("/api/v1/orders", "alice", json={"customer_id": c["id"], "lines": [
        {"product_id": p["id"], "quantity": 1}, {"product_id": p["id"], "quantity": 3, "discount": 100}]})
    assert resp.status_code == 422 and fields_of(resp) == ["lines[1].discount"], resp.get_json()
    resp = api.post("/api/v1/quotes", "alice", json={"customer_id": c["id"], "lines": [
        {"product_id": p["id"], "quantity": 0.001, "unit_price": 1}]})
    assert resp.status_code == 422 and fields_of(resp) == ["lines[0].quantity"], resp.get_json()


@pytest.mark.parametrize(("rep", "head"), [
    ("alice", "bob"),    # a rep of the Sales department: its head
    ("frank", "bob"),    # someone in Legal selling: still the head of Sales, not of Legal
    ("bob", "dave"),     # the head of Sales himself: the head above him
])
def test_the_sales_head_step_goes_to_the_head_of_the_sales_department(api, crm, rep: str, head: str) -> None:  # noqa: ANN001
    c = crm.customer(rep)
    p = product(api, "SH", 100)
    o = order(api, rep, c["id"], [{"product_id": p["id"], "quantity": 1}])
    done = submit(api, rep, o["id"])
    detail = api.get(f"/api/v1/process-instances/{done['instance_id']}", "admin").get_json()
    assert [t["assignee"] for t in detail["active_tasks"]] == [head]
