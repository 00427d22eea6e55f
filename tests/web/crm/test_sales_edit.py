"""The order edit page and the order page after the #16 probes: a rep edits the lines of a draft or rejected order
(never a pending one, never a colleague's, never after the customer left them); finance gets the customer's
balance on the order page and a customer link only where it may open the customer; a blank rejection reason is
refused on the task page."""

from __future__ import annotations

from tests.crm.sales_helpers import complete, product, submit, task
from tests.web.conftest import Web


def _html(resp) -> str:  # noqa: ANN001
    return resp.get_data(as_text=True)


def _order(api, customer_id: int, product_id: int, quantity: int = 2) -> dict:  # noqa: ANN001
    resp = api.post("/api/v1/orders", "alice", json={"customer_id": customer_id, "note": "<b>first</b>", "lines": [
        {"product_id": product_id, "quantity": quantity, "discount": 5}]})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_a_rep_edits_the_lines_of_a_draft_order(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    p, q = product(api, "ED-1", 1000), product(api, "ED-2", 50, name="<img src=x onerror=alert(1)>")
    o = _order(api, crm["mine"]["id"], p["id"])
    web.login("alice")
    page = _html(web.get(f"/orders/{o['id']}"))
    assert 'id="edit-order"' in page and f'/orders/{o["id"]}/edit' in page
    path = f"/orders/{o['id']}/edit"
    form = _html(web.get(path))
    assert 'value="2"' in form and 'value="1000.00"' in form and 'value="5"' in form
    assert "&lt;b&gt;first&lt;/b&gt;" in form and "<img src=x" not in form  # markup is text
    resp = web.post(path, {"line-0-product_id": str(p["id"]), "line-0-quantity": "3",
                           "line-1-product_id": str(q["id"]), "line-1-quantity": "1", "line-1-unit_price": "40",
                           "payment_terms": "net60", "note": "revised"}, csrf_from=path)
    assert resp.status_code == 302, _html(resp)
    saved = api.get(f"/api/v1/orders/{o['id']}", "alice").get_json()
    assert [(ln["quantity"], ln["unit_price"]) for ln in saved["lines"]] == [(3.0, 1000.0), (1.0, 40.0)]
    assert (saved["payment_terms"], saved["note"], saved["total"]) == ("net60", "revised", 3435.2)
    # a bad line is shown on its own row, nothing saved
    bad = web.post(path, {"line-0-product_id": str(p["id"]), "line-0-quantity": "1",
                          "line-2-product_id": str(q["id"]), "line-2-quantity": "0.0001",
                          "payment_terms": "net30"}, csrf_from=path)
    assert bad.status_code == 422
    assert 'id="f-line-2-quantity"' in _html(bad) and "after rounding" in _html(bad)
    assert api.get(f"/api/v1/orders/{o['id']}", "alice").get_json()["total"] == 3435.2


def test_no_edit_while_pending_nor_for_others_and_again_once_rejected(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    p = product(api, "ED-3", 100)
    o = _order(api, crm["mine"]["id"], p["id"])
    path = f"/orders/{o['id']}/edit"
    inst = submit(api, "alice", o["id"])["instance_id"]
    web.login("alice")
    assert 'id="edit-order"' not in _html(web.get(f"/orders/{o['id']}"))
    resp = web.get(path)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/orders/{o['id']}")
    sneaky = web.post(path, {"line-0-product_id": str(p["id"]), "line-0-quantity": "9", "payment_terms": "net30"},
                      csrf_from=f"/orders/{o['id']}")
    assert sneaky.status_code == 302
    assert api.get(f"/api/v1/orders/{o['id']}", "alice").get_json()["lines"][0]["quantity"] == 2.0
    web.logout()
    for user, status in (("frank", 404), ("carol", 403)):  # outside the scope; finance reads but does not write
        web.login(user)
        assert web.get(path).status_code == status
        web.logout()
    complete(api, "bob", "sales_head_approval", inst, approved=False, comment="too many")
    web.login("alice")
    assert 'id="edit-order"' in _html(web.get(f"/orders/{o['id']}"))
    resp = web.post(path, {"line-0-product_id": str(p["id"]), "line-0-quantity": "1", "payment_terms": "net30"},
                    csrf_from=path)
    assert resp.status_code == 302
    assert api.get(f"/api/v1/orders/{o['id']}", "alice").get_json()["lines"][0]["quantity"] == 1.0


def test_after_a_transfer_the_old_owner_gets_no_edit_page(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    p = product(api, "ED-4", 100)
    o = _order(api, crm["mine"]["id"], p["id"])
    assert api.post(f"/api/v1/customers/{crm['mine']['id']}/transfer", "alice", json={"to": "bob"}
                    ).status_code == 200
    web.login("alice")
    page = _html(web.get(f"/orders/{o['id']}"))
    assert 'id="edit-order"' not in page and "Submit for approval" not in page
    assert web.get(f"/orders/{o['id']}/edit").status_code == 403


def test_finance_sees_the_balance_and_a_customer_link_only_where_it_may_open_the_customer(web: Web, crm: dict,
                                                                                         api) -> None:  # noqa: ANN001
    p = product(api, "ED-5", 60_000)
    cid = crm["mine"]["id"]
    big = _order(api, cid, p["id"], quantity=1)
    inst = submit(api, "alice", big["id"])["instance_id"]
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    assert task(api, "carol", "finance_review", inst) is not None
    other = api.post("/api/v1/orders", "bob", json={"customer_id": crm["other"]["id"], "lines": [
        {"product_id": p["id"], "quantity": 1}]}).get_json()  # a customer no task of carol's names
    web.login("carol")
    page = _html(web.get(f"/orders/{big['id']}"))
    assert 'id="customer-link"' in page and 'id="customer-balance"' in page  # the open task grants the customer
    assert web.get(f"/customers/{cid}").status_code == 200
    page = _html(web.get(f"/orders/{other['id']}"))
    assert 'id="customer-link"' not in page and 'id="customer-name"' in page and 'id="customer-balance"' in page
    assert web.get(f"/customers/{crm['other']['id']}").status_code == 404  # so no link to follow into a 404
    web.logout()
    web.login("alice")  # the rep has her customer, not the finance balance
    page = _html(web.get(f"/orders/{big['id']}"))
    assert 'id="customer-link"' in page and 'id="customer-balance"' not in page


def test_a_blank_rejection_reason_is_refused_on_the_task_page(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    p = product(api, "ED-6", 100)
    o = _order(api, crm["mine"]["id"], p["id"])
    inst = submit(api, "alice", o["id"])["instance_id"]
    head = task(api, "bob", "sales_head_approval", inst)
    web.login("bob")
    resp = web.post(f"/tasks/{head['id']}/complete", {"v:approved": "false", "v:comment": "   "},
                    csrf_from=f"/tasks/{head['id']}")
    assert resp.status_code == 422, resp.status_code
    assert api.get(f"/api/v1/orders/{o['id']}", "alice").get_json()["status"] == "pending"


def test_a_line_refused_by_pricing_is_shown_on_its_own_row_of_the_new_order_form(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    p = product(api, "ED-7", 100)
    path = f"/customers/{crm['mine']['id']}/orders/new"
    web.login("alice")
    resp = web.post(path, {"line-0-product_id": str(p["id"]), "line-0-quantity": "1",
                           "line-3-product_id": str(p["id"]), "line-3-quantity": "1", "line-3-unit_price": "0.001",
                           "payment_terms": "net30"}, csrf_from=path)
    assert resp.status_code == 422
    html = _html(resp)
    error_at = html.index("after rounding")
    assert html.rfind('id="f-line-3-unit_price"', 0, error_at) > html.rfind('id="f-line-1-unit_price"', 0, error_at)
    assert api.get("/api/v1/orders", "alice").get_json()["items"] == []
