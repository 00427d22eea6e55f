"""The web customer list stays cheap with many customers (issue #19): the pager links a window of pages, not
every page; the total is counted exactly only up to a bound ("10000+" past it); search goes through the
bigram index (also contacts' names) and still finds industry and region by substring, inside the viewer's scope."""

from __future__ import annotations

import functools
import re

from sqlalchemy import select

from api.web.common.queries import capped_count, page_window
from tests.web.conftest import Web


def _html(resp) -> str:  # noqa: ANN001
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def _many(app, owner: str, n: int) -> None:  # noqa: ANN001
    from api.extensions import db
    from crm.customers import name_key
    from crm.models import Customer
    with app.app_context():
        db.session.add_all(Customer(name=f"Bulk {i:04d}", name_key=name_key(f"Bulk {i:04d}"), owner=owner,
                                    level="C") for i in range(n))
        db.session.commit()


def test_page_window_links_the_ends_and_the_neighbourhood() -> None:
    assert page_window(1, 1) == [1]
    assert page_window(1, 8) == [1, 2, 3, None, 8]
    assert page_window(5, 8) == [1, None, 3, 4, 5, 6, 7, 8]
    assert page_window(4000, 8000) == [1, None, 3998, 3999, 4000, 4001, 4002, None, 8000]
    assert len(page_window(1, 100_000)) == 5


def test_customer_pager_is_a_window_and_the_total_is_bounded(web: Web, app, monkeypatch) -> None:  # noqa: ANN001
    _many(app, "alice", 230)
    web.login("alice")
    html = _html(web.get("/customers"))
    links = set(re.findall(r"page=(\d+)", html))
    assert links == {"1", "2", "3", "10"} and "…" in html and "(230)" in html
    last = _html(web.get("/customers?page=10"))
    assert "Bulk 0229" in last and "Bulk 0000" not in last
    import api.web.crm.customer_pages as pages
    monkeypatch.setattr(pages, "capped_count", functools.partial(capped_count, cap=100))
    html = _html(web.get("/customers?page=4"))
    assert "(100+)" in html  # past the bound: not counted further
    assert "page=5" in html  # but the page after a full one is still offered
    assert "Bulk 0099" in html and "Bulk 0100" not in html


def test_search_uses_the_index_and_keeps_to_scope(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    resp = api.post("/api/v1/contacts", "alice", json={"customer_id": crm["mine"]["id"], "name": "王小明"})
    assert resp.status_code == 201, resp.get_json()
    resp = api.post("/api/v1/contacts", "bob", json={"customer_id": crm["other"]["id"], "name": "王小红"})
    assert resp.status_code == 201, resp.get_json()
    web.login("alice")
    for q in ("小明", "acme rob", "5555", "manufact", "EAST"):
        assert "Acme Robotics" in _html(web.get("/customers", query_string={"q": q})), q
    for q in ("小红", "Bobcat", "food", "north"):  # bob's customer: never in alice's results
        assert "Bobcat Foods" not in _html(web.get("/customers", query_string={"q": q})), q
    html = _html(web.get("/customers", query_string={"q": "<b>x</b>%_"}))
    assert "<b>x</b>" not in html and "No customers match" in html
    assert web.get("/customers", query_string={"q": "x" * 201}).status_code == 422


def test_distinct_values_walks_the_index(app) -> None:  # noqa: ANN001
    from api.extensions import db
    from crm.customers import distinct_values
    from crm.models import Customer
    _many(app, "alice", 3)
    with app.app_context():
        db.session.add(Customer(name="Zed", name_key="zed", owner="bob", industry="zinc", region="west"))
        db.session.commit()
        want = sorted(set(db.session.scalars(select(Customer.industry).where(Customer.industry.is_not(None)))))
        assert distinct_values(db.session, Customer.industry) == want and "zinc" in want
