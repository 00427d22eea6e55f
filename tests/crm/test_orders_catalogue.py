"""Products, quotes and orders: catalogue CRUD/import/export, Decimal totals with the tax setting, numbering,
quote -> order once, and who may touch what."""

from __future__ import annotations

import io

from tests.conftest import run_in_threads
from tests.crm.conftest import fields_of
from tests.crm.sales_helpers import order, product

P = "/api/v1/products"


def test_products_crud_is_for_admins_and_codes_are_unique(api, crm) -> None:  # noqa: ANN001
    p = product(api, "HW-1", 199.99)
    assert p["list_price"] == 199.99 and p["active"] is True
    assert api.post(P, "alice", json={"code": "X", "name": "X", "list_price": 1}).status_code == 403
    dup = api.post(P, "admin", json={"code": "hw-1", "name": "Other", "list_price": 1})
    assert dup.status_code == 409 and fields_of(dup) == ["code"]
    bad = api.post(P, "admin", json={"code": "Y", "name": "Y", "list_price": "abc"})
    assert bad.status_code == 422 and "list_price" in fields_of(bad)
    huge = api.post(P, "admin", json={"code": "Z" * 51, "name": "Z", "list_price": 1})
    assert huge.status_code == 422 and "code" in fields_of(huge)
    changed = crm.patch(f"{P}/{p['id']}", "admin", {"active": False})
    assert changed.status_code == 200 and changed.get_json()["active"] is False
    listed = api.get(f"{P}?active=false", "alice").get_json()
    assert [x["code"] for x in listed["items"]] == ["HW-1"] and listed["total"] == 1


def test_products_import_all_or_nothing_and_export(api) -> None:  # noqa: ANN001
    good = "code,name,unit,category,list_price,active\nA-1,Alpha,box,tools,10.50,true\nA-2,Beta,pcs,tools,3,no\n"
    bad = "code,name,list_price\nB-1,One,1\nB-1,Two,abc\n"
    resp = api.client.post(f"{P}/import", headers=api.headers("admin"),
                           data={"file": (io.BytesIO(bad.encode()), "p.csv")})
    assert resp.status_code == 422
    assert {(e["row"], e["field"]) for e in resp.get_json()["errors"]} == {(3, "code"), (3, "list_price")}
    assert api.get(P, "admin").get_json()["total"] == 0
    resp = api.client.post(f"{P}/import", headers=api.headers("admin"),
                           data={"file": (io.BytesIO(good.encode()), "p.csv")})
    assert resp.status_code == 201 and resp.get_json()["imported"] == 2
    csv = api.get(f"{P}?format=csv", "alice")
    assert csv.status_code == 200 and "A-1,Alpha,box,tools,10.5,True" in csv.get_data(as_text=True)
    assert api.client.post(f"{P}/import", headers=api.headers("alice"),
                           data={"file": (io.BytesIO(good.encode()), "p.csv")}).status_code == 403


def test_totals_are_exact_decimals_with_the_tax_setting(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    a, b = product(api, "A", 0.1), product(api, "B", 333.33)
    o = order(api, "alice", c["id"], [{"product_id": a["id"], "quantity": 3},
                                      {"product_id": b["id"], "quantity": 3, "discount": 12.5}])
    # gross 0.30 + 999.99; discount 125.00 (12.5% of 999.99 = 124.99875); net 875.29; tax 13% = 113.79
    assert (o["subtotal"], o["discount_total"], o["tax"], o["total"]) == (1000.29, 125.0, 113.79, 989.08)
    assert o["max_discount"] == 12.5 and o["tax_rate"] == 13.0 and o["status"] == "draft"
    assert crm.put("/api/v1/crm/settings", "admin", {"tax_rate_bp": 600}).status_code == 200
    o2 = order(api, "alice", c["id"], [{"product_id": b["id"], "quantity": 1, "unit_price": 100}])
    assert (o2["tax"], o2["total"], o2["tax_rate"]) == (6.0, 106.0, 6.0)


def test_bad_lines_name_the_field(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    p = product(api, "A", 10)
    inactive = product(api, "OLD", 10, active=False)
    cases = [
        ([], "lines"),
        ([{"product_id": 999999, "quantity": 1}], "lines[0].product_id"),
        ([{"product_id": p["id"], "quantity": 1}, {"product_id": inactive["id"], "quantity": 1}],
         "lines[1].product_id"),
        ([{"product_id": p["id"], "quantity": 0}], "lines"),
        ([{"product_id": p["id"], "quantity": 1, "discount": 101}], "lines"),
        ([{"product_id": p["id"], "quantity": 1, "unit_price": -1}], "lines"),
        ([{"product_id": p["id"], "quantity": 1}] * 201, "lines"),
    ]
    for lines, field in cases:
        resp = api.post("/api/v1/orders", "alice", json={"customer_id": c["id"], "lines": lines})
        assert resp.status_code == 422, (lines[:2], resp.get_json())
        assert any(f and f.startswith(field) for f in fields_of(resp)), (field, resp.get_json())
    resp = api.post("/api/v1/orders", "alice", json={"customer_id": c["id"], "lines": [
        {"product_id": p["id"], "quantity": 1}], "payment_terms": "never"})
    assert resp.status_code == 422 and fields_of(resp) == ["payment_terms"]


def test_numbers_are_sequential_per_series_and_year(api, crm) -> None:  # noqa: ANN001
    from datetime import date
    year = date.today().year
    c = crm.customer("alice")
    p = product(api, "A", 10)
    numbers = [order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])["number"] for _ in range(3)]
    assert numbers == [f"SO-{year}-0001", f"SO-{year}-0002", f"SO-{year}-0003"]
    q = api.post("/api/v1/quotes", "alice", json={"customer_id": c["id"], "lines": [
        {"product_id": p["id"], "quantity": 1}]}).get_json()
    assert q["number"] == f"QT-{year}-0001"
    # a failed request gives its number back: no gap
    assert api.post("/api/v1/orders", "alice", json={"customer_id": c["id"], "lines": [
        {"product_id": p["id"], "quantity": 1, "discount": 100.5}]}).status_code == 422
    assert order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])["number"] == f"SO-{year}-0004"


def test_concurrent_orders_get_distinct_gap_free_numbers(api, app, crm) -> None:  # noqa: ANN001
    import threading
    c = crm.customer("alice")
    p = product(api, "A", 10)
    headers = api.headers("alice")
    barrier = threading.Barrier(6)
    got: list[str] = []

    def make(_i: int) -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post("/api/v1/orders", headers=headers, json={"customer_id": c["id"], "lines": [
            {"product_id": p["id"], "quantity": 1}]})
        if resp.status_code == 201:
            got.append(resp.get_json()["number"])

    run_in_threads(6, make)
    listed = api.get("/api/v1/orders?per_page=50", "alice").get_json()["items"]
    numbers = sorted(o["number"] for o in listed)
    assert sorted(got) == numbers and len(set(numbers)) == len(numbers) == 6
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == list(range(1, len(numbers) + 1))


def test_quote_from_opportunity_turns_into_one_order(api, crm) -> None:  # noqa: ANN001
    c = crm.customer("alice")
    opp = crm.opportunity("alice", c["id"], amount=500)
    p = product(api, "A", 50)
    resp = api.post("/api/v1/quotes", "alice", json={"opportunity_id": opp["id"], "lines": [
        {"product_id": p["id"], "quantity": 2, "discount": 10}]})
    assert resp.status_code == 201, resp.get_json()
    q = resp.get_json()
    assert q["customer_id"] == c["id"] and q["total"] == 101.7 and q["lines"][0]["amount"] == 90.0
    resp = api.post(f"/api/v1/quotes/{q['id']}/order", "alice", json={"payment_terms": "30_70"})
    assert resp.status_code == 201, resp.get_json()
    o = resp.get_json()
    assert (o["quote_id"], o["opportunity_id"], o["total"], o["payment_terms"]) == (q["id"], opp["id"], 101.7,
                                                                                    "30_70")
    again = api.post(f"/api/v1/quotes/{q['id']}/order", "alice", json={})
    assert again.status_code == 409
    assert crm.patch(f"/api/v1/quotes/{q['id']}", "alice", {"note": "late"}).status_code == 409


def test_a_colleague_cannot_see_or_change_orders_and_quotes(api, crm) -> None:  # noqa: ANN001
    """(carol is in finance, which reads every order: the colleague here is frank.)"""
    c = crm.customer("alice")
    p = product(api, "A", 10)
    o = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}])
    assert api.get(f"/api/v1/orders/{o['id']}", "frank").status_code == 404
    assert api.get("/api/v1/orders", "frank").get_json()["total"] == 0
    assert crm.patch(f"/api/v1/orders/{o['id']}", "frank", {"note": "x"}).status_code == 404
    assert api.post(f"/api/v1/orders/{o['id']}/submit", "frank", json={}).status_code == 404
    other = api.post("/api/v1/orders", "frank", json={"customer_id": c["id"], "lines": [
        {"product_id": p["id"], "quantity": 1}]})
    assert other.status_code == 422 and fields_of(other) == ["customer_id"]
    assert api.get(f"/api/v1/orders/{o['id']}", "bob").status_code == 200  # alice's manager
    markup = order(api, "alice", c["id"], [{"product_id": p["id"], "quantity": 1}], note="<script>x</script>")
    assert markup["note"] == "<script>x</script>"  # stored as text; pages escape it


def test_an_xlsx_cell_holding_a_formula_is_refused_naming_the_cell(api) -> None:  # noqa: ANN001
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.append(["code", "name", "list_price"])
    ws.append(["F-1", "Formula", "=HYPERLINK(\"http://x\",1)"])
    ws.append(["F-2", "Plain", 5])
    other = wb.create_sheet("notes")  # formulas elsewhere in the workbook are not imported: no matter
    other.append(["=1+1"])
    out = io.BytesIO()
    wb.save(out)
    resp = api.client.post(f"{P}/import", headers=api.headers("admin"),
                           data={"file": (io.BytesIO(out.getvalue()), "p.xlsx")})
    assert resp.status_code == 422, resp.get_json()
    [error] = resp.get_json()["errors"]
    assert error["cell"] == "C2" and "formulas are not accepted" in error["message"]
    assert api.get(P, "admin").get_json()["total"] == 0
    ws["C2"] = 7
    out = io.BytesIO()
    wb.save(out)
    resp = api.client.post(f"{P}/import", headers=api.headers("admin"),
                           data={"file": (io.BytesIO(out.getvalue()), "p.xlsx")})
    assert resp.status_code == 201 and resp.get_json()["imported"] == 2
