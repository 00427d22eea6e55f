"""The instalments a confirmed order makes are worded from the order in the reader's language (订单 SO-…，预付),
not stored as English prose; the API keeps its English note beside the order's number and terms, and plans
written before (note "SO-… (prepaid)") are converted by the migration and read the same."""

from __future__ import annotations

import re

from alembic import command
from sqlalchemy import create_engine, text

from api.extensions import db
from tests.conftest import Api
from tests.test_migrations import _config
from tests.web.conftest import Web


def _confirmed(api: Api, app, terms: str) -> tuple[dict, int]:  # noqa: ANN001
    from crm import orders
    from crm.models import SalesOrder
    from tests.crm.conftest import Crm
    from tests.crm.sales_helpers import order, product
    customer = Crm(api).customer("alice")
    o = order(api, "alice", customer["id"], [{"product_id": product(api, "PN-1", 1000)["id"], "quantity": 1}],
              payment_terms=terms)
    with app.app_context():
        db.session.get(SalesOrder, o["id"]).status = "pending"
        db.session.flush()
        contract_id = orders.confirm(db.session, o["id"], "carol").contract_id
        db.session.commit()
    return o, contract_id


def _notes(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", n).strip() for n in re.findall(r'<td data-label="[^"]*">([^<]*SO-[^<]*)</td>', page)]


def test_order_instalments_read_in_the_readers_language(web: Web, api: Api, app) -> None:  # noqa: ANN001
    o, contract_id = _confirmed(api, app, "30_70")
    plans = api.get(f"/api/v1/contracts/{contract_id}", "carol").get_json()["plans"]
    assert [p["note"] for p in plans] == [f"{o['number']} (30_70)"] * 2  # the API says it as it always did
    assert {(p["order_id"], p["order_number"], p["payment_terms"]) for p in plans} == {(o["id"], o["number"],
                                                                                         "30_70")}
    web.login("carol")
    web.get("/lang/zh_CN")
    shown = f"订单 {o['number']}，先付 30%，60 天内付 70%"
    contract_page = web.get(f"/contracts/{contract_id}").get_data(as_text=True)
    receivables = web.get("/receivables?show=all").get_data(as_text=True)
    for page in (contract_page, receivables):
        notes = _notes(page)
        assert notes and all(n == shown for n in notes), notes
        assert "(30_70)" not in page
    csv_text = web.get("/receivables?format=csv&show=all").get_data(as_text=True)
    assert "(30_70)" not in csv_text and shown in csv_text
    # the contract the order made is titled from the order too, wherever it is named
    for page in (contract_page, receivables, csv_text):
        assert f"订单 {o['number']}" in page and f"Order {o['number']}" not in page
    web.logout()
    web.login("alice")  # the rep's customer page (finance does not read the customer)
    web.get("/lang/zh_CN")
    customer_page = web.get(f"/customers/{o['customer_id']}").get_data(as_text=True)
    assert f"订单 {o['number']}" in customer_page and f"Order {o['number']}" not in customer_page
    web.logout()
    web.login("carol")
    web.get("/lang/en")
    assert f"Order {o['number']}, 30% now, 70% in 60 days" in web.get(f"/contracts/{contract_id}").get_data(
        as_text=True)


def test_the_migration_converts_notes_written_before(api: Api, app, database_url: str) -> None:  # noqa: ANN001
    o, contract_id = _confirmed(api, app, "prepaid")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    config = _config(database_url)
    command.downgrade(config, "i2000000002")  # as the plans were stored before: the English note, no order_id
    engine = create_engine(database_url)
    with engine.begin() as conn:
        notes = conn.execute(text("SELECT note FROM crm_receivable_plan WHERE contract_id = :k"),
                             {"k": contract_id}).scalars().all()
        assert notes == [f"{o['number']} (prepaid)"]
        conn.execute(text("INSERT INTO crm_receivable_plan (contract_id, due_date, amount, paid_amount, note, "
                          "created_at) VALUES (:k, '2027-01-01', 0.01, 0, 'typed by a person', '2026-12-01')"),
                     {"k": contract_id})
    command.upgrade(config, "heads")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT note, order_id FROM crm_receivable_plan WHERE contract_id = :k ORDER BY id"),
                            {"k": contract_id}).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(None, o["id"]), ("typed by a person", None)]
