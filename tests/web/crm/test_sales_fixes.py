"""Sales pages after the #16 walkthrough: finance reads every order and invoice page (read only); only the order's
owner (or their manager) gets the submit button, an edit share does not."""

from __future__ import annotations

from tests.crm.sales_helpers import complete, product, submit, task
from tests.web.conftest import Web


def _html(resp) -> str:  # noqa: ANN001
    return resp.get_data(as_text=True)


def test_finance_reads_order_and_invoice_pages_and_a_share_gives_no_submit(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    p = product(api, "FIXW-1", 100)
    cid = crm["mine"]["id"]
    draft = api.post("/api/v1/orders", "alice", json={"customer_id": cid, "lines": [
        {"product_id": p["id"], "quantity": 1}]}).get_json()
    done = api.post("/api/v1/orders", "alice", json={"customer_id": cid, "lines": [
        {"product_id": p["id"], "quantity": 2}]}).get_json()
    inst = submit(api, "alice", done["id"])["instance_id"]
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    inv = api.post("/api/v1/invoices", "carol", json={"order_id": done["id"]}).get_json()
    web.login("carol")
    assert inv["number"] in _html(web.get("/invoices"))
    assert web.get(f"/invoices/{inv['id']}").status_code == 200
    assert f"/orders/{done['id']}" in _html(web.get("/orders"))
    page = web.get(f"/orders/{draft['id']}")
    assert page.status_code == 200 and "Submit for approval" not in _html(page)
    web.logout()
    assert api.post(f"/api/v1/customers/{cid}/shares", "alice", json={"user": "frank", "access": "edit"}
                    ).status_code == 201
    web.login("frank")
    page = web.get(f"/orders/{draft['id']}")
    assert page.status_code == 200 and "Submit for approval" not in _html(page)
    web.post(f"/orders/{draft['id']}/submit", {}, csrf_from=f"/orders/{draft['id']}")
    assert api.get(f"/api/v1/orders/{draft['id']}", "alice").get_json()["status"] == "draft"


def test_an_order_task_links_to_its_order(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    p = product(api, "FIXW-2", 100)
    o = api.post("/api/v1/orders", "alice", json={"customer_id": crm["mine"]["id"], "lines": [
        {"product_id": p["id"], "quantity": 1}]}).get_json()
    inst = submit(api, "alice", o["id"])["instance_id"]
    found = task(api, "bob", "sales_head_approval", inst)
    web.login("bob")
    html = _html(web.get(f"/tasks/{found['id']}"))
    # the task page shows the order as a card (number, owner, status, total) linking to the order page
    assert 'data-kind="order"' in html and f'href="/orders/{o["id"]}">{o["number"]}</a>' in html
    assert web.get(f"/orders/{o['id']}").status_code == 200


def test_a_rejected_order_approval_is_resubmitted_from_the_order_not_a_copied_form(web: Web, crm: dict,  # noqa: ANN001
                                                                                   api) -> None:  # noqa: ANN001
    p = product(api, "FIXW-2", 100)
    made = api.post("/api/v1/orders", "alice", json={"customer_id": crm["mine"]["id"], "lines": [
        {"product_id": p["id"], "quantity": 1}]}).get_json()
    inst = submit(api, "alice", made["id"])["instance_id"]
    complete(api, "bob", "sales_head_approval", inst, approved=False, comment="price")
    web.login("alice")
    page = _html(web.get(f"/instances/{inst}"))
    assert 'id="resubmit"' not in page and 'id="copy"' not in page  # the copied form would start a stale order
    assert f"/orders/{made['id']}" in page  # the order page is where it is changed and submitted again
