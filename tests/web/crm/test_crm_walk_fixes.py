"""What a new-user walk through the CRM pages found (#15 point 5, #16 pages): list counts that match the rows
(finance sees every contract and order: an unfiltered query), the signed date labelled as a date, the owner
transfer and release wording, a release that needs a reason, the pool's level label, and the board's per-column
count and amount total."""

from __future__ import annotations

import re

from tests.crm.sales_helpers import product
from tests.web.conftest import Web


def _html(resp) -> str:  # noqa: ANN001
    return resp.get_data(as_text=True)


def _count(html: str) -> int:
    found = re.search(r'<h1>[^<]*<span class="muted">\((\d+)\)</span></h1>', html)
    assert found, html[:2000]
    return int(found.group(1))


def test_finance_list_counts_match_the_rows(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    for n in range(3):
        resp = api.post("/api/v1/contracts", "alice", json={"customer_id": crm["mine"]["id"], "title": f"K{n}",
                                                           "amount": "1000"})
        assert resp.status_code == 201, resp.get_json()
    p = product(api, "CNT-1", 100)
    for _n in range(2):
        resp = api.post("/api/v1/orders", "alice", json={"customer_id": crm["mine"]["id"],
                                                         "lines": [{"product_id": p["id"], "quantity": 1}]})
        assert resp.status_code == 201, resp.get_json()
    web.login("carol")  # finance: every contract and order, so the list query has no WHERE at all
    contracts = _html(web.get("/contracts"))
    assert _count(contracts) == 3 == contracts.count('<tr><td data-label=')
    orders = _html(web.get("/orders"))
    assert _count(orders) == 2 == len(re.findall(r'href="/orders/\d+"', orders))
    web.logout()
    web.login("frank")  # legal, with none of them in scope: zero, not one
    assert _count(_html(web.get("/contracts"))) == 0


def test_signed_date_and_owner_wording_in_chinese(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    resp = api.post("/api/v1/contracts", "alice", json={"customer_id": crm["mine"]["id"], "title": "Signed one",
                                                       "amount": "500", "signed_date": "2026-11-02"})
    assert resp.status_code == 201, resp.get_json()
    kid = resp.get_json()["id"]
    web.login("alice")
    web.get("/lang/zh_CN")
    for path in ("/contracts", f"/contracts/{kid}", f"/customers/{crm['mine']['id']}"):
        html = _html(web.get(path))
        assert "签订日期" in html and "会签" not in html, path
    customer = _html(web.get(f"/customers/{crm['mine']['id']}"))
    assert "转移负责人" in customer and ">转办<" not in customer and "退回公海原因" in customer


def test_pool_shows_the_level_label(web: Web, crm: dict) -> None:
    web.login("alice")
    assert web.post(f"/customers/{crm['mine']['id']}/release", {"reason": "no budget"}).status_code == 302
    pool = _html(web.get("/pool"))
    row = re.search(r'<td data-label="Level">([^<]*)</td>', pool)
    assert row and row.group(1).strip() not in ("", "A"), pool  # the option's label, not its key


def test_board_columns_total_count_and_amount(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    for amount in ("1000", "2500.50"):
        resp = api.post("/api/v1/opportunities", "alice", json={"customer_id": crm["mine"]["id"], "name": "Extra",
                                                                "amount": amount, "stage": "qualified"})
        assert resp.status_code == 201, resp.get_json()
    web.login("alice")
    board = _html(web.get("/opportunities/board"))
    column = board.split('data-stage="qualified"', 1)[1].split("</section>", 1)[0]
    assert re.search(r'class="badge column-count" data-count="3">3<', column)  # 120000 + 1000 + 2500.50
    assert re.search(r'<span class="amount">123,500</span>', column) or "123,501" in column
    assert 'class="muted count"' not in board  # counts are a neutral badge, not the red alert count
    web.logout()
    web.login("frank")  # someone outside alice's scope does not count her deals
    other = _html(web.get("/opportunities/board")).split('data-stage="qualified"', 1)[1].split("</section>", 1)[0]
    assert 'data-count="0">0<' in other


def _contract_with_plans(api, customer_id: int, owner: str = "alice") -> dict:  # noqa: ANN001
    resp = api.post("/api/v1/contracts", owner, json={"customer_id": customer_id, "title": "<i>Supply</i> deal",
                                                     "amount": "9000", "status": "active"})
    assert resp.status_code == 201, resp.get_json()
    k = resp.get_json()
    for due, amount in (("2020-01-15", "4000"), ("2099-06-30", "5000")):
        made = api.post("/api/v1/receivables", owner, json={"contract_id": k["id"], "due_date": due, "amount": amount})
        assert made.status_code == 201, made.get_json()
    return k


def test_finance_menus_show_only_what_finance_uses(web: Web, crm: dict) -> None:
    web.login("carol")
    page = _html(web.get("/contracts"))
    nav = page.split('<nav class="nav">', 1)[1].split("</nav>", 1)[0]
    for path in ("/contracts", "/orders", "/invoices", "/receivables"):
        assert f'href="{path}"' in nav, path
    assert 'href="/customers"' not in nav and 'href="/opportunities/board"' not in nav
    sub = page.split('<nav class="subnav"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/receivables"' in sub
    for path in ("/pool", "/follow-ups/due", "/opportunities/board", "/opportunities/new"):
        assert f'href="{path}"' not in sub, path
    web.logout()
    web.login("alice")  # a rep keeps the sales pages, and reaches the money pages from the CRM sub-menu
    sub = _html(web.get("/customers")).split('<nav class="subnav"', 1)[1].split("</nav>", 1)[0]
    for path in ("/pool", "/follow-ups/due", "/opportunities/board", "/receivables", "/contracts"):
        assert f'href="{path}"' in sub, path
    web.logout()
    web.login("frank")  # neither sales nor finance: no CRM links at all
    nav = _html(web.get("/")).split('<nav class="nav">', 1)[1].split("</nav>", 1)[0]
    assert 'href="/contracts"' not in nav and 'href="/receivables"' not in nav


def test_contract_page_links_the_customer_only_for_who_may_open_it(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    k = _contract_with_plans(api, crm["mine"]["id"])
    web.login("alice")
    assert f'href="/customers/{crm["mine"]["id"]}" id="contract-customer"' in _html(web.get(f"/contracts/{k['id']}"))
    web.logout()
    web.login("carol")
    page = _html(web.get(f"/contracts/{k['id']}"))
    assert "Acme Robotics" in page and f'href="/customers/{crm["mine"]["id"]}"' not in page
    assert web.get(f"/customers/{crm['mine']['id']}").status_code == 404  # the link would have led here


def test_receivables_page_filters_and_exports(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    k = _contract_with_plans(api, crm["mine"]["id"])
    web.login("carol")
    page = _html(web.get("/receivables"))
    assert _count(page) == 2 and "&lt;i&gt;Supply&lt;/i&gt; deal" in page and "<i>Supply" not in page
    assert "Acme Robotics" in page and 'href="/customers/' not in page  # finance may not open the customer
    assert f'href="/contracts/{k["id"]}"' in page and "4,000.00" in page and "5,000.00" in page
    overdue = _html(web.get("/receivables?show=overdue"))
    assert _count(overdue) == 1 and "Jan 15, 2020" in overdue and "Jun 30, 2099" not in overdue
    assert _count(_html(web.get("/receivables?due_by=2030-01-01"))) == 1
    assert _count(_html(web.get("/receivables?show=paid"))) == 0
    csv_text = web.get("/receivables?format=csv&show=overdue").get_data(as_text=True)
    lines = [ln for ln in csv_text.splitlines() if ln.strip()]
    assert len(lines) == 2 and "Acme Robotics" in lines[1] and "4000" in lines[1]
    assert web.get("/receivables?format=xlsx").data[:2] == b"PK"
    assert web.get("/receivables?show=everything").status_code == 422
    assert web.get("/receivables?due_by=soon").status_code == 422
    web.logout()
    web.login("alice")
    mine = _html(web.get("/receivables"))
    assert _count(mine) == 2 and f'href="/customers/{crm["mine"]["id"]}"' in mine
    web.logout()
    web.login("frank")  # nothing of alice's in scope
    assert _count(_html(web.get("/receivables?show=all"))) == 0


def test_request_contract_approval_from_the_opportunity(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    oid = crm["opp"]["id"]
    web.login("alice")
    web.get("/lang/zh_CN")
    page = _html(web.get(f"/opportunities/{oid}"))
    assert "发起合同审批" in page and "进行中" in page and "待办" not in page
    link = re.search(r'id="request-contract-approval" href="([^"]+)"', page)
    assert link, page
    url = link.group(1).replace("&amp;", "&")
    assert url.startswith("/start/contract_approval?")
    form = _html(web.get(url))
    assert re.search(rf'name="v:opportunity_id"[^>]*value="{oid}"|value="{oid}"[^>]*selected', form), form[:4000]
    assert re.search(r'name="v:title"[^>]*value="Arm upgrade"', form)
    assert re.search(r'name="v:amount"[^>]*value="120000"', form)
    # the query string fills in declared fields only, capped, and never a file field nor an undeclared one
    assert web.get("/start/contract_approval?document=5").status_code == 422  # a file is uploaded, never named
    odd = _html(web.get("/start/contract_approval?title=%3Cb%3Ex%3C%2Fb%3E"))
    assert re.search(r'name="v:title"[^>]*value="&lt;b&gt;x&lt;/b&gt;"', odd) and "<b>x</b>" not in odd
    assert web.get("/start/contract_approval?approved=true").status_code == 422  # not a start-form field
    long = _html(web.get("/start/contract_approval?title=" + "y" * 5000))
    typed = re.search(r'name="v:title"[^>]*value="(y*)"', long)
    assert typed and len(typed.group(1)) == 1000
    resp = web.post(url, {"v:opportunity_id": str(oid), "v:title": "Arm upgrade", "v:amount": "120000"},
                    csrf_from=url, content_type="multipart/form-data")
    assert resp.status_code == 302, _html(resp)[:3000]  # the pre-filled form starts the request
    web.logout()
    web.login("bob")  # the manager may read it but the button is for who may change the opportunity
    assert api.post(f"/api/v1/opportunities/{oid}/win", "alice", json={"reason": "signed"}).status_code == 200
    web.logout()
    web.login("alice")
    assert 'id="request-contract-approval"' not in _html(web.get(f"/opportunities/{oid}"))  # closed: no button


def test_customer_export_speaks_the_readers_language(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    import csv
    import io

    from openpyxl import load_workbook
    made = api.post("/api/v1/customers", "alice", json={"name": "=HYPERLINK(\"x\")", "industry": "retail",
                                                        "region": "north", "phone": "13800000000"})
    assert made.status_code == 201, made.get_json()
    web.login("alice")
    web.get("/lang/zh_CN")
    rows = list(csv.DictReader(io.StringIO(web.get("/customers?format=csv").get_data(as_text=True).lstrip("\ufeff"))))
    acme = next(r for r in rows if r["名称"] == "Acme Robotics")  # headers in the reader's language too
    assert (acme["行业"], acme["区域"]) == ("制造业", "华东")  # labels, not manufacturing / east
    assert acme["电话"] == "'+86 21 5555 0101"  # starts with +: a spreadsheet would compute it
    from datetime import datetime

    from store.clock import company_timezone
    offset = datetime.now(company_timezone()).isoformat(timespec="seconds")[-6:]  # +08:00 in Asia/Shanghai
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", acme["创建时间"])
    assert acme["创建时间"].endswith(offset), (acme["创建时间"], offset)
    odd = next(r for r in rows if "HYPERLINK" in r["名称"])
    assert odd["名称"].startswith("'=") and odd["电话"] == "13800000000"  # plain digits untouched
    keyed = web.get("/customers?format=csv&keys=1").get_data(as_text=True)
    assert keyed.lstrip("\ufeff").startswith("id,name,industry,") and ",manufacturing,east," in keyed
    book = load_workbook(io.BytesIO(web.get("/customers?format=xlsx").data))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    values = {r[header.index("名称")]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["Acme Robotics"][header.index("电话")] == "+86 21 5555 0101"  # a text cell: no prefix needed
    assert values["Acme Robotics"][header.index("行业")] == "制造业"
    formula = next(c for row in sheet.iter_rows(min_row=2) for c in row if c.value == '=HYPERLINK("x")')
    assert formula.data_type == "s"  # stored as text, never evaluated
    assert web.get("/customers?format=csv&keys=maybe").status_code == 422
