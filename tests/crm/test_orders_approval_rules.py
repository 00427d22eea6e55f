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
