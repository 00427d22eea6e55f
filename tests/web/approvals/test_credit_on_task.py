"""Finance decides on the credit check from the task page: the customer's credit limit, what it owes now and
what it will owe with this order, as they stand when the page is read (the API's task data says the same)."""

from __future__ import annotations

import re

from tests.crm.conftest import Crm
from tests.crm.sales_helpers import complete, order, product, submit, task
from tests.web.conftest import LEAVE, Web


def _credit_card(html: str) -> str:
    found = re.search(r'<section class="card record-card credit" id="credit"[^>]*>(.*?)</section>', html, re.S)
    return re.sub(r"\s+", " ", found.group(1)) if found else ""


def test_the_credit_check_task_shows_limit_outstanding_and_after_the_order(web: Web, api) -> None:  # noqa: ANN001
    crm = Crm(api)
    c = crm.customer("alice", name="Credit Buyer Ltd")
    assert crm.put(f"/api/v1/customers/{c['id']}/credit-limit", "carol", {"credit_limit": 100_000}).status_code == 200
    p = product(api, "CC-1", 10_000)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 5, "discount": 20}])  # 45,200 with tax
    inst = submit(api, "alice", o["id"])["instance_id"]
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    fin = task(api, "carol", "finance_review", inst)
    web.login("carol")
    card = _credit_card(web.get(f"/tasks/{fin['id']}").get_data(as_text=True))
    assert "Credit limit</dt><dd><span class=\"money\">100,000.00" in card, card
    assert "Outstanding</dt><dd><span class=\"money\">0.00" in card
    assert "Outstanding with this order</dt><dd><span class=\"money\">45,200.00" in card
    assert "Within the credit limit" in card
    # the limit is cut while the task waits: the page says so at once, in Chinese too
    assert crm.put(f"/api/v1/customers/{c['id']}/credit-limit", "carol", {"credit_limit": 40_000}).status_code == 200
    card = _credit_card(web.get(f"/tasks/{fin['id']}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True))
    assert "客户信用" in card and "40,000.00" in card and "超出信用额度" in card and 'class="badge bad"' in card


def test_without_a_limit_no_verdict_and_other_flows_show_no_credit(web: Web, api) -> None:  # noqa: ANN001
    crm = Crm(api)
    c = crm.customer("alice", name="Open Account Ltd")
    p = product(api, "CC-2", 100)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    inst = submit(api, "alice", o["id"])["instance_id"]
    head = task(api, "bob", "sales_head_approval", inst)
    web.login("bob")
    card = _credit_card(web.get(f"/tasks/{head['id']}").get_data(as_text=True))
    assert "Credit limit</dt><dd>none" in card and "credit-verdict" not in card, card
    web.logout()
    web.login("alice")
    assert web.post("/start/leave_request", LEAVE, csrf_from="/start/leave_request").status_code == 302
    web.logout()
    web.login("bob")
    leave = next(t for t in api.tasks("bob") if t["instance_id"] != inst)
    assert 'id="credit"' not in web.get(f"/tasks/{leave['id']}").get_data(as_text=True)


def test_the_invoice_task_of_a_confirmed_order_does_not_count_the_order_twice(web: Web, api) -> None:  # noqa: ANN001
    """Once confirmed, the order is an active contract in the outstanding receivables: "with this order" is the
    same figure, as the order page says, not the order's total added a second time."""
    crm = Crm(api)
    c = crm.customer("alice", name="Confirmed Buyer Ltd")
    assert crm.put(f"/api/v1/customers/{c['id']}/credit-limit", "carol", {"credit_limit": 100_000}).status_code == 200
    crm.contract("alice", c["id"], amount=20_000)  # an earlier receivable
    p = product(api, "CC-3", 10_000)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 5, "discount": 20}])  # 45,200 with tax
    inst = submit(api, "alice", o["id"])["instance_id"]
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    complete(api, "carol", "finance_review", inst, approved=True)
    invoice = task(api, "carol", "invoice_request", inst)
    credit = api.get(f"/api/v1/tasks/{invoice['id']}", "carol").get_json()["variables"]["credit"]
    assert credit == {"credit_limit": 100_000.0, "outstanding": 65_200.0, "after_order": 65_200.0,
                      "within_limit": True}
    web.login("carol")
    card = _credit_card(web.get(f"/tasks/{invoice['id']}").get_data(as_text=True))
    assert "Outstanding</dt><dd><span class=\"money\">65,200.00" in card, card
    assert "Outstanding with this order</dt><dd><span class=\"money\">65,200.00" in card, card
    page = web.get(f"/orders/{o['id']}").get_data(as_text=True)
    assert re.search(r"Outstanding with this order</dt><dd>65,200.00", page), page
