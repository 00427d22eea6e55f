"""The sales demo data: products, quotes, orders in every state (through the real approval flow), an invoice and
an overdue order instalment; idempotent."""

from __future__ import annotations

import pytest

from api.extensions import db


@pytest.mark.parametrize("with_engine", [True, False])
def test_demo_orders_cover_every_state_and_an_overdue_receivable(api, app, with_engine: bool) -> None:  # noqa: ANN001
    from crm import demo
    with app.app_context():
        demo.seed(db.session, progress=lambda _m: None)
        db.session.commit()
        engine = app.extensions["oaflow_engine"] if with_engine else None
        assert demo.seed_sales(db.session, progress=lambda _m: None, engine=engine) == 5
        db.session.commit()
        assert demo.seed_sales(db.session, progress=lambda _m: None, engine=engine) == 0
    orders = api.get("/api/v1/orders?per_page=50", "admin").get_json()["items"]
    assert sorted(o["status"] for o in orders) == ["cancelled", "confirmed", "draft", "pending", "rejected"]
    assert all(bool(o["instance_id"]) == (with_engine and o["status"] != "draft") for o in orders)
    assert api.get("/api/v1/quotes", "admin").get_json()["total"] == 2
    assert api.get("/api/v1/products", "alice").get_json()["total"] == 6
    assert api.get("/api/v1/invoices", "admin").get_json()["total"] == 1
    confirmed = next(o for o in orders if o["status"] == "confirmed")
    detail = api.get(f"/api/v1/contracts/{confirmed['contract_id']}", "admin").get_json()
    assert detail["overdue_amount"] == confirmed["total"]
    rejected = next(o for o in orders if o["status"] == "rejected")
    rounds = api.get(f"/api/v1/orders/{rejected['id']}", "alice").get_json()["rounds"]
    assert rounds[0]["outcome"] == "rejected" and rounds[0]["reason"]
    if with_engine:
        pending = next(o for o in orders if o["status"] == "pending")
        assert any(t["instance_id"] == pending["instance_id"] for t in api.tasks("bob", assignee="me"))
