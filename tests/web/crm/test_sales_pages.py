"""The sales pages: a rep creates an order for a customer and submits it, the sales head approves it in the task
page, the order and the customer page show the outcome; another rep's order is 404, markup in a product name is
text, bad lines are 4xx on the field, and the Chinese pages translate every label."""

from __future__ import annotations

import re

from tests.crm.sales_helpers import complete, product, submit, task
from tests.web.conftest import Web


def _html(resp) -> str:  # noqa: ANN001
    return resp.get_data(as_text=True)


def _create_order(web: Web, customer_id: int, product_id: int, **line: str) -> int:
    path = f"/customers/{customer_id}/orders/new"
    resp = web.post(path, {"line-0-product_id": str(product_id), "line-0-quantity": "2",
                           "line-0-discount": "5", "payment_terms": "net30", **line}, csrf_from=path)
    assert resp.status_code == 302, _html(resp)
    return int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_order_created_submitted_approved_and_on_the_customer_page(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    p = product(api, "ARM-1", 1000)
    cid = crm["mine"]["id"]
    web.login("alice")
    form = _html(web.get(f"/customers/{cid}/orders/new"))
    assert "Product ARM-1" in form and 'name="line-0-quantity"' in form
    order_id = _create_order(web, cid, p["id"])
    html = _html(web.get(f"/orders/{order_id}"))
    assert "Draft" in html and "1,900.00" in html and "2,147.00" in html  # 2 x 1000 - 5%, + 13% tax
    assert "Submit for approval" in html
    resp = web.post(f"/orders/{order_id}/submit", {}, csrf_from=f"/orders/{order_id}")
    assert resp.status_code == 302
    html = _html(web.get(f"/orders/{order_id}"))
    assert "Pending approval" in html and 'id="approval-link"' in html and "Submit for approval" not in html
    again = web.post(f"/orders/{order_id}/submit", {}, csrf_from=f"/orders/{order_id}")
    assert again.status_code == 302 and "only a draft" in _html(web.get(f"/orders/{order_id}"))
    listing = _html(web.get("/orders?status=pending"))
    assert "SO-" in listing and f"/orders/{order_id}" in listing
    assert f"/orders/{order_id}" not in _html(web.get("/orders?status=confirmed"))
    number = re.search(r"(SO-\d{4}-\d+)", listing).group(1)
    assert f"/orders/{order_id}" in _html(web.get(f"/orders?q={number.lower()}"))
    assert web.get("/orders?status=bogus").status_code == 422
    web.logout()

    inst = api.get(f"/api/v1/orders/{order_id}", "alice").get_json()["instance_id"]
    head = task(api, "bob", "sales_head_approval", inst)
    assert head is not None
    web.login("bob")
    resp = web.post(f"/tasks/{head['id']}/complete", {"v:approved": "true"}, csrf_from=f"/tasks/{head['id']}")
    assert resp.status_code == 302, _html(resp)
    html = _html(web.get(f"/orders/{order_id}"))
    assert "Confirmed" in html and "2,147.00" in html
    web.logout()

    web.login("alice")
    page = _html(web.get(f"/customers/{cid}"))
    sales = page[page.index('id="sales"'):page.index('id="tickets"')]
    assert number in sales and "Confirmed" in sales
    assert re.search(r'id="outstanding">2,147.00<', sales)
    assert f"/customers/{cid}/orders/new" in sales
    plan = _html(web.get(f"/orders/{order_id}"))
    assert plan[plan.index('id="plans"'):].count("2,147.00") == 1


def test_a_rep_cannot_open_or_submit_a_colleagues_order(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    p = product(api, "ARM-2", 10)
    web.login("bob")
    order_id = _create_order(web, crm["other"]["id"], p["id"])
    web.logout()
    web.login("alice")
    assert web.get(f"/orders/{order_id}").status_code == 404
    assert web.post(f"/orders/{order_id}/submit", {}, csrf_from="/orders").status_code == 404
    assert f"/orders/{order_id}" not in _html(web.get("/orders"))
    assert web.get(f"/customers/{crm['other']['id']}/orders/new").status_code == 404
    assert web.get("/orders/999999").status_code == 404
    assert api.get(f"/api/v1/orders/{order_id}", "bob").get_json()["status"] == "draft"


def test_bad_lines_are_shown_on_the_field_and_nothing_is_saved(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    p = product(api, "ARM-3", 10)
    cid = crm["mine"]["id"]
    path = f"/customers/{cid}/orders/new"
    web.login("alice")
    bad = web.post(path, {"line-0-product_id": str(p["id"]), "line-0-quantity": "-1",
                          "line-0-discount": "150", "payment_terms": "net30"}, csrf_from=path)
    html = _html(bad)
    assert bad.status_code == 422 and html.count('class="field-error"') == 2
    empty = web.post(path, {"payment_terms": "net30"}, csrf_from=path)
    assert empty.status_code == 422 and "Add at least one line" in _html(empty)
    ghost = web.post(path, {"line-0-product_id": "999999", "line-0-quantity": "1", "payment_terms": "net30"},
                     csrf_from=path)
    assert 400 <= ghost.status_code < 500
    huge = web.post(path, {"line-0-product_id": str(p["id"]), "line-0-quantity": "9" * 5000,
                           "payment_terms": "net30"}, csrf_from=path)
    assert 400 <= huge.status_code < 500
    no_csrf = web.client.post(path, data={"line-0-product_id": str(p["id"]), "line-0-quantity": "1",
                                          "payment_terms": "net30"})
    assert no_csrf.status_code == 400
    assert api.get(f"/api/v1/orders?customer_id={cid}", "alice").get_json()["items"] == []


def test_markup_in_a_product_name_is_text(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    p = product(api, "XSS-1", 10, name="<script>alert(1)</script><b>bold</b>")
    web.login("alice")
    for path in ("/products", f"/customers/{crm['mine']['id']}/orders/new"):
        html = _html(web.get(path))
        assert "<script>alert(1)" not in html and "<b>bold" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
    order_id = _create_order(web, crm["mine"]["id"], p["id"])
    html = _html(web.get(f"/orders/{order_id}"))
    assert "<b>bold" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html


def test_products_search_export_and_admin_only_edit(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    p = product(api, "GEAR-9", 42)
    product(api, "BOLT-1", 1)
    web.login("alice")
    html = _html(web.get("/products?q=gear"))
    assert "GEAR-9" in html and "BOLT-1" not in html and "New product" not in html
    csv = web.get("/products/export?format=csv&q=gear")
    assert csv.status_code == 200 and "GEAR-9" in csv.get_data(as_text=True)
    assert "BOLT-1" not in csv.get_data(as_text=True)
    assert web.get("/products/export?format=exe").status_code == 422
    denied = web.get("/products/new")
    assert denied.status_code == 403 and denied.mimetype == "text/html"
    assert "Only administrators add or change products." in _html(denied)
    assert web.post(f"/products/{p['id']}/edit", {"code": "X", "name": "X", "list_price": "1"},
                    csrf_from="/products").status_code == 403
    web.logout()
    web.login("admin")
    resp = web.post(f"/products/{p['id']}/edit", {"code": "GEAR-9", "name": "Gear nine", "list_price": "50",
                                                  "active": "true"}, csrf_from=f"/products/{p['id']}/edit")
    assert resp.status_code == 302
    assert "Gear nine" in _html(web.get("/products?q=gear"))
    dup = web.post("/products/new", {"code": "bolt-1", "name": "Dup", "list_price": "1"}, csrf_from="/products/new")
    assert dup.status_code == 409 and 'id="err-code"' in _html(dup)
    neg = web.post("/products/new", {"code": "N-1", "name": "Neg", "list_price": "-1"}, csrf_from="/products/new")
    assert neg.status_code == 422 and 'id="err-list_price"' in _html(neg)


def test_invoice_pages_and_their_scope(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    p = product(api, "INV-1", 100)
    web.login("alice")
    order_id = _create_order(web, crm["mine"]["id"], p["id"])
    inst = submit(api, "alice", order_id)["instance_id"]
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    resp = api.post("/api/v1/invoices", "carol", json={"order_id": order_id})
    assert resp.status_code == 201, resp.get_json()
    inv_id, inv_number = resp.get_json()["id"], resp.get_json()["number"]
    html = _html(web.get("/invoices"))
    assert inv_number in html and f"/invoices/{inv_id}" in html
    detail = _html(web.get(f"/invoices/{inv_id}"))
    assert inv_number in detail and f"/orders/{order_id}" in detail
    assert inv_number in _html(web.get(f"/orders/{order_id}"))
    customer = _html(web.get(f"/customers/{crm['mine']['id']}"))
    assert inv_number in customer[customer.index('id="sales"'):]
    web.logout()
    web.login("bob")  # bob's own customer has no invoice; his rep's invoice is in his team's scope
    assert web.get(f"/invoices/{inv_id}").status_code == 200
    assert web.get("/invoices/999999").status_code == 404


def test_chinese_sales_pages_have_no_untranslated_labels(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    p = product(api, "ZH-1", 10)
    web.login("alice")
    web.get("/lang/zh_CN")
    order_id = _create_order(web, crm["mine"]["id"], p["id"])
    for path in ("/orders", f"/orders/{order_id}", f"/customers/{crm['mine']['id']}/orders/new",
                 f"/customers/{crm['mine']['id']}", "/products", "/invoices", "/quotes",
                 f"/opportunities/{crm['opp']['id']}/quotes/new"):
        html = _html(web.get(path))
        for label in ("Orders", "Products", "Submit for approval", "Payment plan", "Outstanding balance",
                      "Credit limit", "Unit price", "Discount %", "Draft", "No invoices yet", "Order number",
                      "List price", "New order", "Create order", "Quotes", "New quote", "No quotes yet"):
            assert f">{label}<" not in html and f"{label}</" not in html, (path, label)
    assert "订单" in _html(web.get("/orders"))


def test_quote_from_an_opportunity_turned_into_an_order_once(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    p = product(api, "Q-1", 300)
    cid, opp_id = crm["mine"]["id"], crm["opp"]["id"]
    web.login("alice")
    page = _html(web.get(f"/customers/{cid}"))
    assert f"/opportunities/{opp_id}/quotes/new" in page
    path = f"/opportunities/{opp_id}/quotes/new"
    assert "Arm upgrade" in _html(web.get(path))
    bad = web.post(path, {"line-0-product_id": str(p["id"]), "line-0-quantity": "x"}, csrf_from=path)
    assert bad.status_code == 422 and 'class="field-error"' in _html(bad)
    resp = web.post(path, {"line-0-product_id": str(p["id"]), "line-0-quantity": "4", "note": "<i>fast</i>"},
                    csrf_from=path)
    assert resp.status_code == 302, _html(resp)
    quote_path = resp.headers["Location"]
    html = _html(web.get(quote_path))
    assert "1,200.00" in html and "&lt;i&gt;fast&lt;/i&gt;" in html and "Turn into an order" in html
    assert "Q-" in _html(web.get("/quotes")) or quote_path in _html(web.get("/quotes"))
    made = web.post(f"{quote_path}/order", {"payment_terms": "prepaid"}, csrf_from=quote_path)
    assert made.status_code == 302 and "/orders/" in made.headers["Location"]
    order = _html(web.get(made.headers["Location"]))
    assert "Prepaid" in order and "1,356.00" in order  # 1,200 + 13% tax
    again = web.post(f"{quote_path}/order", {"payment_terms": "prepaid"}, csrf_from=f"{quote_path}")
    assert again.status_code == 409
    assert 'id="quote-order"' in _html(web.get(quote_path))
    web.logout()
    web.login("carol")  # another rep: neither the quote nor the opportunity's form
    assert web.get(quote_path).status_code == 404
    assert web.get(path).status_code == 404
    assert web.post(f"{quote_path}/order", {"payment_terms": "prepaid"}, csrf_from="/").status_code == 404
