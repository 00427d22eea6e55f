"""Finance decides on the customer's credit as it stands when the task is read, not a copy from submit time,
and the order flow's instance variables hold no CRM details (name, credit) a CC'd reader could not read."""

from __future__ import annotations

from tests.crm.conftest import Crm
from tests.crm.sales_helpers import complete, order, product, submit, task


def test_finance_sees_the_credit_of_now_and_variables_copy_no_crm_details(api) -> None:  # noqa: ANN001
    crm = Crm(api)
    c = crm.customer("alice", name="Secret Buyer Ltd")
    assert crm.put(f"/api/v1/customers/{c['id']}/credit-limit", "carol", {"credit_limit": 100_000}).status_code == 200
    p = product(api, "CR-1", 10_000)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 5, "discount": 20}])  # 45,200 w/ tax
    inst = submit(api, "alice", o["id"])["instance_id"]
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    fin = task(api, "carol", "finance_review", inst)
    credit = api.get(f"/api/v1/tasks/{fin['id']}", "carol").get_json()["variables"]["credit"]
    assert credit == {"credit_limit": 100_000.0, "outstanding": 0.0, "after_order": 45_200.0, "within_limit": True}
    # the limit is cut while the task waits: the task shows it at once
    assert crm.put(f"/api/v1/customers/{c['id']}/credit-limit", "carol", {"credit_limit": 40_000}).status_code == 200
    credit = api.get(f"/api/v1/tasks/{fin['id']}", "carol").get_json()["variables"]["credit"]
    assert credit["credit_limit"] == 40_000.0 and credit["within_limit"] is False
    stored = api.get(f"/api/v1/process-instances/{inst}", "admin").get_json()["variables"]
    assert "credit" not in stored and "Secret Buyer" not in str(stored)


def test_the_generic_start_of_an_order_flow_carries_the_orders_business_key(api) -> None:  # noqa: ANN001
    from tests.crm.conftest import fields_of
    crm = Crm(api)
    c = crm.customer("alice")
    p = product(api, "BK-1", 100)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    url = "/api/v1/process-definitions/sales_order_approval/start"
    for key in (f"order:{o['id'] + 1}", f"order:{o['id']} ", "x" * 200):
        resp = api.post(url, "alice", json={"business_key": key, "variables": {"order_id": o["id"]}})
        assert resp.status_code == 422 and fields_of(resp) == ["business_key"], (key, resp.get_json())
    resp = api.post(url, "alice", json={"variables": {"order_id": o["id"]}})
    assert resp.status_code == 201 and resp.get_json()["business_key"] == f"order:{o['id']}", resp.get_json()
