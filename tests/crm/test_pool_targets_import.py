"""Public pool (release and claim with a cap), sales targets that must add up, and CSV/XLSX import/export."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, update

from api.extensions import db
from crm.models import Contact, Customer
from crm.pool import release_stale_customers
from store.base import utcnow
from tests.crm.conftest import C, fields_of


def test_stale_customers_return_to_the_pool_once_and_can_be_claimed(api, app, crm) -> None:  # noqa: ANN001
    stale, fresh, followed = crm.customer("alice"), crm.customer("alice"), crm.customer("bob")
    now = utcnow()
    with app.app_context():
        db.session.execute(update(Customer).where(Customer.id.in_([stale["id"], followed["id"]]))
                           .values(assigned_at=now - timedelta(days=40)))
        db.session.execute(update(Customer).where(Customer.id == followed["id"])
                           .values(last_follow_up_at=now - timedelta(days=3)))
        db.session.commit()
        assert release_stale_customers(db.session, now) == 1
        db.session.commit()
        assert release_stale_customers(db.session, now) == 0
    pool = api.get(C, "carol", query_string={"pool": "public"}).get_json()
    assert [c["id"] for c in pool["items"]] == [stale["id"]] and pool["items"][0]["owner"] is None
    assert api.get(C, "alice").get_json()["total"] == 1  # fresh only
    assert api.post(f"{C}/{fresh['id']}/claim", "carol").status_code == 404  # someone else's: as if missing
    assert api.post(f"{C}/{fresh['id']}/claim", "alice").status_code == 409  # her own: owned already
    assert api.post(f"{C}/{fresh['id']}/claim", "bob").status_code == 409  # in his team's scope: owned
    assert api.post(f"{C}/999999/claim", "carol").status_code == 404
    resp = api.post(f"{C}/{stale['id']}/claim", "carol")
    assert resp.status_code == 200 and resp.get_json()["owner"] == "carol"
    assert api.post(f"{C}/{stale['id']}/claim", "frank").status_code == 404  # carol's now, invisible to frank
    with app.app_context():  # a claim restarts the clock: not released again straight away
        assert release_stale_customers(db.session, utcnow()) == 0
    trail = api.get("/api/v1/audit", "carol", query_string={"entity": "customer", "id": stale["id"]}).get_json()
    assert [(e["action"], e["old"], e["new"]) for e in trail["items"] if e["field"] == "owner"][-2:] == [
        ("release", "alice", None), ("claim", None, "carol")]


def test_claim_cap(api, app, crm) -> None:  # noqa: ANN001
    assert crm.put("/api/v1/crm/settings", "admin", {"claim_cap": 1}).status_code == 200
    a, b = crm.customer("admin"), crm.customer("admin")
    with app.app_context():
        db.session.execute(update(Customer).where(Customer.id.in_([a["id"], b["id"]])).values(owner=None))
        db.session.commit()
    assert api.post(f"{C}/{a['id']}/claim", "frank").status_code == 200
    resp = api.post(f"{C}/{b['id']}/claim", "frank")
    assert resp.status_code == 409 and fields_of(resp) == ["claim_cap"]


def test_targets_split_must_add_up(api, crm) -> None:  # noqa: ANN001
    t = "/api/v1/targets"
    assert crm.put(t, "admin", {"period": "2026-Q4", "scope": "company", "amount": 100000}).status_code == 200
    assert crm.put(t, "bob", {"period": "2026-Q4", "scope": "company", "amount": 1}).status_code == 403
    assert crm.put(t, "dave", {"period": "2026-Q4", "scope": "team", "owner": "bob", "amount": 60000}) \
        .status_code == 200
    resp = crm.put(t, "admin", {"period": "2026-Q4", "scope": "team", "owner": "dave", "amount": 50000})
    # dave's team includes bob's; both hang off the company and together exceed it
    assert resp.status_code == 422
    err = resp.get_json()["errors"][0]
    assert err["period"] == "2026-Q4" and err["owner"] == "dave"
    assert crm.put(t, "bob", {"period": "2026-Q4", "scope": "rep", "owner": "alice", "amount": 50000}) \
        .status_code == 200
    resp = crm.put(t, "bob", {"period": "2026-Q4", "scope": "rep", "owner": "alice", "amount": 60001})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["owner"] == "alice"
    # lowering the parent below what is split from it is refused too
    resp = crm.put(t, "dave", {"period": "2026-Q4", "scope": "team", "owner": "bob", "amount": 40000})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["owner"] == "bob"
    assert crm.put(t, "alice", {"period": "2026-Q4", "scope": "rep", "owner": "alice", "amount": 1}) \
        .status_code == 403
    resp = crm.put(t, "admin", {"period": "2026-Q5", "scope": "rep", "owner": "alice", "amount": 1})
    assert resp.status_code == 422 and fields_of(resp) == ["period"]
    listed = api.get(t, "alice", query_string={"period": "2026-Q4"}).get_json()["items"]
    assert {(x["scope"], x["owner"]) for x in listed} == {("company", None), ("rep", "alice")}


def _upload(api, user: str, name: str, content: bytes, kind: str = "customers"):  # noqa: ANN001, ANN202
    return api.client.post(f"{C}/import", query_string={"kind": kind}, data={"file": (io.BytesIO(content), name)},
                           headers=api.headers(user), content_type="multipart/form-data")


def _count(app, model) -> int:  # noqa: ANN001
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_import_is_all_or_nothing_with_a_row_report(api, app, crm) -> None:  # noqa: ANN001
    crm.customer("bob", name="Taken Co", phone="111")
    bad = (b"name,industry,region,level,phone\nGood One,retail,north,A,222\n,retail,north,A,\n"
           b"Taken Co,retail,north,B,\nGood One,energy,south,Q,333\n")
    resp = _upload(api, "alice", "c.csv", bad)
    assert resp.status_code == 422
    errors = {(e["row"], e["field"]) for e in resp.get_json()["errors"]}
    assert errors == {(3, "name"), (4, "name"), (5, "name"), (5, "level")}
    taken = next(e for e in resp.get_json()["errors"] if e["row"] == 4)
    assert "another rep" in taken["message"]
    assert _count(app, Customer) == 1
    good = b"name,industry,region,level,phone\nGood One,retail,north,A,222\nSecond,energy,south,C,\n"
    resp = _upload(api, "alice", "c.csv", good)
    assert resp.status_code == 201 and resp.get_json()["imported"] == 2
    assert api.get(C, "alice").get_json()["total"] == 2
    wb = Workbook()
    ws = wb.active
    ws.append(["customer", "name", "title", "email"])
    ws.append(["Good One", "Zhang San", "CTO", "zs@example.com"])
    ws.append(["Taken Co", "Li Si", None, "nope"])
    buf = io.BytesIO()
    wb.save(buf)
    resp = _upload(api, "alice", "contacts.xlsx", buf.getvalue(), kind="contacts")
    assert resp.status_code == 422
    assert {(e["row"], e["field"]) for e in resp.get_json()["errors"]} == {(3, "customer"), (3, "email")}
    assert _count(app, Contact) == 0
    ws.delete_rows(3)
    buf = io.BytesIO()
    wb.save(buf)
    assert _upload(api, "alice", "contacts.xlsx", buf.getvalue(), kind="contacts").status_code == 201
    assert api.get("/api/v1/contacts", "alice").get_json()["items"][0]["name"] == "Zhang San"
    assert _upload(api, "alice", "c.pdf", b"x").status_code == 422
    assert _upload(api, "alice", "c.xlsx", b"not a zip").status_code == 422
    assert _upload(api, "alice", "c.csv", b"name\n").status_code == 422
    resp = api.client.post(f"{C}/import", headers=api.headers("alice"))
    assert resp.status_code == 422 and fields_of(resp) == ["file"]


def test_export_lists_as_csv_and_xlsx_in_scope(api, crm) -> None:  # noqa: ANN001
    crm.customer("alice", name="=HYPERLINK(evil)")
    crm.customer("bob", name="Bob Co")
    resp = api.get(C, "alice", query_string={"format": "csv"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    assert "'=HYPERLINK" in text and "Bob Co" not in text
    resp = api.get("/api/v1/opportunities", "bob", query_string={"format": "xlsx"})
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert ws.cell(1, 1).value == "id"
    assert api.get(C, "alice", query_string={"format": "doc"}).status_code == 422


def test_demo_seed_is_idempotent_and_feeds_the_reports(api, app) -> None:  # noqa: ANN001
    from crm.demo import seed
    with app.app_context():
        assert seed(db.session, progress=lambda _m: None) == 11  # 8 owned, 3 in the public pool
        db.session.commit()
        assert seed(db.session, progress=lambda _m: None) == 0
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 11
        assert db.session.scalar(select(func.count()).select_from(Customer).where(Customer.owner.is_(None))) == 3
    pipe = {r["stage"]: r["count"] for r in api.get("/api/v1/reports/pipeline", "admin").get_json()["items"]}
    assert pipe["won"] == 2 and pipe["lost"] == 1 and pipe["negotiation"] == 2
    assert api.get("/api/v1/reports/forecast", "bob").get_json()["total"] >= 1
    sales = api.get("/api/v1/reports/sales-by-rep", "admin").get_json()["items"]
    assert any(r["won_amount"] > 0 and r["target"] for r in sales)
    assert sum(api.get("/api/v1/reports/segments", "admin").get_json()["counts"].values()) == 8


def test_import_maps_option_labels_in_either_language_to_keys(api, app) -> None:  # noqa: ANN001
    rows = ("name,industry,region,level,source\n华东机械,制造业,华东,A级,转介绍\nWest Shop,RETAIL, North ,b,Website\n"
            "Odd Co,Shipbuilding,Mars,,word of mouth\n").encode()
    resp = _upload(api, "alice", "c.csv", rows)
    assert resp.status_code == 201, resp.get_json()
    got = {c["name"]: (c["industry"], c["region"], c["level"], c["source"])
           for c in api.get(C, "alice").get_json()["items"]}
    assert got["华东机械"] == ("manufacturing", "east", "A", "referral")
    assert got["West Shop"] == ("retail", "north", "B", "web")
    assert got["Odd Co"] == ("Shipbuilding", "Mars", None, "word of mouth")  # free-text fields keep what is typed
    assert api.get(C, "alice", query_string={"industry": "manufacturing"}).get_json()["total"] == 1  # filter finds it
    bad = _upload(api, "alice", "c.csv", "name,level\n某公司,特级\n".encode())  # level is a fixed list: refused
    assert bad.status_code == 422 and {(e["row"], e["field"]) for e in bad.get_json()["errors"]} == {(2, "level")}
