"""The CRM pages a sales rep works in: opportunities (create from the board and a customer, edit, detail),
contacts, contracts with receivable plans and payments, tickets, the public pool (claim, release), owner
transfer, the follow-up reminder list, import/export on the customer list and the operation-log tab.

Each action is tried as the attacker too: another rep (404), a read-only share (403), bad or huge input (shown
on the same page, 4xx), markup in data (escaped), and zh-CN pages show no raw enum keys."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

from store.base import utcnow
from tests.conftest import run_in_threads
from tests.web.conftest import Web


def _html(resp) -> str:  # noqa: ANN001
    return resp.get_data(as_text=True)


def _made(resp) -> dict:  # noqa: ANN001
    assert resp.status_code in (200, 201), resp.get_json()
    return resp.get_json()


# ------------------------------------------------------------------ opportunities
def test_new_opportunity_from_board_and_customer(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    cid = crm["mine"]["id"]
    web.login("alice")
    board = _html(web.get("/opportunities/board"))
    assert 'href="/opportunities/new"' in board
    form = _html(web.get("/opportunities/new"))
    assert "Acme Robotics" in form and "Bobcat Foods" not in form  # only my customers are offered
    preset = _html(web.get(f"/opportunities/new?customer_id={cid}"))
    assert re.search(rf'<option value="{cid}"\s+selected', preset)
    assert f'href="/opportunities/new?customer_id={cid}"' in _html(web.get(f"/customers/{cid}"))
    resp = web.post("/opportunities/new", {"customer_id": str(cid), "name": "Gripper retrofit", "stage": "proposal",
                                           "amount": "45000", "expected_close_date": "2027-01-31",
                                           "source": "trade show"})
    assert resp.status_code == 302
    page = _html(web.get(resp.headers["Location"]))
    assert "Gripper retrofit" in page and "45,000.00" in page and "50%" in page  # the stage's probability
    assert "Trade show" in page
    listed = api.get(f"/api/v1/opportunities?customer_id={cid}", "alice").get_json()["items"]
    made = next(o for o in listed if o["name"] == "Gripper retrofit")
    assert made["probability"] == 50 and made["expected_close_date"] == "2027-01-31" and made["owner"] == "alice"
    assert made["source"] == "trade show"


def test_new_opportunity_errors_stay_on_the_form(web: Web, crm: dict) -> None:
    web.login("alice")
    bad = web.post("/opportunities/new", {"customer_id": str(crm["mine"]["id"]), "name": "", "stage": "won",
                                          "amount": "-5", "probability": "140", "expected_close_date": "soon"})
    html = _html(bad)
    assert bad.status_code == 422 and 'id="opportunity-form"' in html
    for name in ("name", "stage", "amount", "probability", "expected_close_date"):
        assert f'id="err-{name}"' in html, name
    other = web.post("/opportunities/new", {"customer_id": str(crm["other"]["id"]), "name": "Steal"})
    assert other.status_code == 422 and 'id="err-customer_id"' in _html(other)
    huge = web.post("/opportunities/new", {"customer_id": str(crm["mine"]["id"]), "name": "x" * 5000})
    assert huge.status_code == 422 and 'id="err-name"' in _html(huge)
    assert web.get(f"/opportunities/new?customer_id={crm['other']['id']}").status_code == 404


def test_edit_opportunity_and_scope(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    oid = crm["opp"]["id"]
    web.login("alice")
    form = _html(web.get(f"/opportunities/{oid}/edit"))
    assert 'value="Arm upgrade"' in form
    resp = web.post(f"/opportunities/{oid}/edit", {"name": "Arm upgrade v2", "stage": "negotiation",
                                                   "amount": "130000", "probability": "25",
                                                   "expected_close_date": "2027-02-01"})
    assert resp.status_code == 302
    got = api.get(f"/api/v1/opportunities/{oid}", "alice").get_json()
    assert got["name"] == "Arm upgrade v2" and got["stage"] == "negotiation" and got["amount"] == 130000
    assert got["probability"] == 75  # the stage moved and the old figure was untouched: the stage default
    bad = web.post(f"/opportunities/{oid}/edit", {"name": "Arm", "amount": "abc"})
    assert bad.status_code == 422 and 'id="err-amount"' in _html(bad)
    web.logout()
    web.login("carol")
    assert web.get(f"/opportunities/{oid}").status_code == 404
    assert web.get(f"/opportunities/{oid}/edit").status_code == 404
    assert web.post(f"/opportunities/{oid}/edit", {"name": "mine now"}).status_code == 404
    api.post(f"/api/v1/opportunities/{oid}/lose", "alice", json={"reason": "budget"})
    web.logout()
    web.login("alice")
    page = _html(web.get(f"/opportunities/{oid}"))
    assert "budget" in page and f'/opportunities/{oid}/edit"' not in page
    assert web.post(f"/opportunities/{oid}/edit", {"name": "reopen"}).status_code == 409


# ------------------------------------------------------------------ contacts
def test_contacts_add_edit_and_scope(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    cid = crm["mine"]["id"]
    web.login("alice")
    resp = web.post(f"/customers/{cid}/contacts", {"name": "Li Wei", "title": "CTO", "phone": "138 0000 0000",
                                                   "email": "li@example.com"})
    assert resp.status_code == 302
    html = _html(web.get(f"/customers/{cid}"))
    assert "Li Wei" in html and "CTO" in html
    contact = api.get(f"/api/v1/contacts?customer_id={cid}", "alice").get_json()["items"][0]
    bad = web.post(f"/customers/{cid}/contacts", {"name": "", "email": "not-an-email"})
    html = _html(bad)
    assert bad.status_code == 422 and 'id="err-name"' in html and 'id="err-email"' in html
    assert "Acme Robotics" in html  # the customer page itself, not a dead end
    assert 'value="Li Wei"' in _html(web.get(f"/contacts/{contact['id']}/edit"))
    assert web.post(f"/contacts/{contact['id']}/edit", {"name": "Li Wei", "title": "CEO"}).status_code == 302
    got = api.get(f"/api/v1/contacts/{contact['id']}", "alice").get_json()
    assert got["title"] == "CEO" and got["email"] is None  # a field left empty is cleared
    assert web.post(f"/contacts/{contact['id']}/edit", {"name": "x" * 300}).status_code == 422
    assert web.post(f"/customers/{crm['other']['id']}/contacts", {"name": "Spy"}).status_code == 404
    web.logout()
    web.login("carol")
    assert web.get(f"/contacts/{contact['id']}/edit").status_code == 404
    assert web.post(f"/contacts/{contact['id']}/edit", {"name": "Hijack"}).status_code == 404
    _made(api.post(f"/api/v1/customers/{cid}/shares", "alice", json={"user": "carol", "access": "read"}))
    assert web.post(f"/customers/{cid}/contacts", {"name": "Nope"}).status_code == 403
    assert web.post(f"/contacts/{contact['id']}/edit", {"name": "Nope"}).status_code == 403


# ------------------------------------------------------------------ contracts, plans, payments
def test_contract_plans_and_payments(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    won = _made(api.post(f"/api/v1/opportunities/{crm['opp']['id']}/win", "alice", json={"reason": "signed"}))
    kid = won["contract"]["id"]
    web.login("alice")
    assert "Contract for Arm upgrade" in _html(web.get("/contracts"))
    page = _html(web.get(f"/contracts/{kid}"))
    assert "120,000.00" in page and 'id="add-plan"' in page
    assert web.post(f"/contracts/{kid}/plans", {"due_date": "2026-01-15", "amount": "40000",
                                                "note": "deposit"}).status_code == 302
    over = web.post(f"/contracts/{kid}/plans", {"due_date": "2026-06-15", "amount": "90000"})
    assert over.status_code == 422 and 'id="err-amount"' in _html(over) and "80000" in _html(over)
    missing = web.post(f"/contracts/{kid}/plans", {"amount": "10"})
    assert missing.status_code == 422 and 'id="err-due_date"' in _html(missing)
    # payments are finance's: a rep neither sees the form nor gets one through by posting it
    assert 'id="record-payment"' not in _html(web.get(f"/contracts/{kid}"))
    assert web.post(f"/contracts/{kid}/payments", {"amount": "15000", "paid_on": "2026-01-10"}).status_code == 403
    assert api.get(f"/api/v1/contracts/{kid}", "alice").get_json()["paid_amount"] == 0
    web.logout()
    web.login("carol")
    assert web.post(f"/contracts/{kid}/payments", {"amount": "15000", "paid_on": "2026-01-10"}).status_code == 302
    got = api.get(f"/api/v1/contracts/{kid}", "alice").get_json()
    assert got["paid_amount"] == 15000 and got["plans"][0]["paid_amount"] == 15000
    page = _html(web.get(f"/contracts/{kid}"))
    assert "deposit" in page and "15,000.00" in page and "Overdue" in page  # the plan is past due, part paid
    assert web.post(f"/contracts/{kid}/status", {"status": "signed"}).status_code == 422
    assert web.post(f"/contracts/{kid}/status", {"status": "draft"}).status_code == 302  # unsigned again
    no_pay = web.post(f"/contracts/{kid}/payments", {"amount": "1"})
    assert no_pay.status_code == 409 and "Only an active contract takes payments." in _html(no_pay)
    assert 'id="record-payment"' not in _html(web.get(f"/contracts/{kid}"))
    assert web.post(f"/contracts/{kid}/status", {"status": "active"}).status_code == 302
    too_much = web.post(f"/contracts/{kid}/payments", {"amount": "200000"})
    assert too_much.status_code == 422 and 'id="err-amount"' in _html(too_much)
    assert api.get(f"/api/v1/contracts/{kid}", "alice").get_json()["paid_amount"] == 15000  # nothing half-done
    web.logout()
    web.login("alice")  # money is owed: the rep cannot close or unsign the contract away
    assert web.post(f"/contracts/{kid}/status", {"status": "closed"}).status_code == 403
    web.logout()
    web.login("frank")
    assert web.get(f"/contracts/{kid}").status_code == 404
    assert web.post(f"/contracts/{kid}/plans", {"due_date": "2026-02-01", "amount": "1"}).status_code == 404
    assert web.post(f"/contracts/{kid}/payments", {"amount": "1"}).status_code == 404
    assert web.post(f"/contracts/{kid}/status", {"status": "closed"}).status_code == 404
    assert web.get(f"/contracts/{kid}/log").status_code == 404
    web.logout()
    web.login("carol")  # finance records payments on any contract, but plans belong to its owner
    page = _html(web.get(f"/contracts/{kid}"))
    assert 'id="record-payment"' in page and 'id="add-plan"' not in page
    assert web.post(f"/contracts/{kid}/plans", {"due_date": "2026-02-01", "amount": "1"}).status_code == 403
    assert web.post(f"/contracts/{kid}/payments", {"amount": "5000"}).status_code == 302
    assert api.get(f"/api/v1/contracts/{kid}", "alice").get_json()["paid_amount"] == 20000


# ------------------------------------------------------------------ tickets
def test_tickets_create_status_close(web: Web, crm: dict) -> None:
    cid = crm["mine"]["id"]
    web.login("alice")
    resp = web.post("/tickets/new", {"customer_id": str(cid), "title": "Arm squeaks", "priority": "high",
                                     "kind": "complaint", "description": "since Monday"})
    assert resp.status_code == 302
    url = resp.headers["Location"]
    tid = int(url.rsplit("/", 1)[1])
    page = _html(web.get(url))
    assert "Arm squeaks" in page and "since Monday" in page and "Complaint" in page
    assert "Arm squeaks" in _html(web.get("/tickets"))
    assert web.post(f"/tickets/{tid}/status", {"status": "in_progress"}).status_code == 302
    assert "In progress" in _html(web.get(url))
    bad = web.post(f"/tickets/{tid}/status", {"status": "closed"})
    assert bad.status_code == 422 and 'id="err-status"' in _html(bad)
    no_outcome = web.post(f"/tickets/{tid}/close", {"outcome": "  "})
    assert no_outcome.status_code == 422 and 'id="err-outcome"' in _html(no_outcome)
    assert web.post(f"/tickets/{tid}/close", {"outcome": "Greased the joint", "satisfaction": "5"}).status_code == 302
    page = _html(web.get(url))
    assert "Greased the joint" in page and 'id="close-ticket"' not in page
    assert web.post(f"/tickets/{tid}/status", {"status": "open"}).status_code == 409
    other = web.post("/tickets/new", {"customer_id": str(crm["other"]["id"]), "title": "x"})
    assert other.status_code == 422 and 'id="err-customer_id"' in _html(other)
    missing = web.post("/tickets/new", {"customer_id": str(cid), "title": "", "priority": "asap"})
    assert missing.status_code == 422 and 'id="err-title"' in _html(missing) and 'id="err-priority"' in _html(missing)
    web.logout()
    web.login("carol")
    assert web.get(url).status_code == 404
    assert web.post(f"/tickets/{tid}/status", {"status": "open"}).status_code == 404


# ------------------------------------------------------------------ public pool, release, transfer
def test_release_claim_and_the_pool_shows_only_unowned(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    cid = crm["mine"]["id"]
    web.login("alice")
    assert "Acme Robotics" not in _html(web.get("/pool"))  # owned: not in the pool
    assert 'id="f-reason"' in _html(web.get(f"/customers/{cid}"))
    for bad in ({}, {"reason": "   "}, {"reason": "x" * 501}):  # a reason is required, and capped
        refused = web.post(f"/customers/{cid}/release", bad)
        assert refused.status_code == 422 and 'id="err-reason"' in _html(refused), bad
    assert api.get(f"/api/v1/customers/{cid}", "alice").get_json()["owner"] == "alice"
    resp = web.post(f"/customers/{cid}/release", {"reason": "Moved abroad <b>"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/pool")
    pool = _html(web.get("/pool"))
    assert "Acme Robotics" in pool and "Bobcat Foods" not in pool
    log = _html(web.get(f"/customers/{cid}/log"))
    assert "Moved abroad &lt;b&gt;" in log  # the reason is in the operation log, escaped
    again = web.post(f"/customers/{cid}/release", {"reason": "again"})  # already there: said on the customer page
    assert again.status_code == 409 and "already in the public pool" in _html(again)
    web.logout()
    web.login("carol")  # any rep may claim from the pool
    assert "Acme Robotics" in _html(web.get("/pool"))
    resp = web.post(f"/pool/{cid}/claim")
    assert resp.status_code == 302
    assert api.get(f"/api/v1/customers/{cid}", "carol").get_json()["owner"] == "carol"
    web.logout()
    web.login("alice")
    again = web.post(f"/pool/{cid}/claim")  # taken meanwhile by someone outside her scope: not hers to see
    assert again.status_code == 404
    assert web.post("/pool/999999/claim").status_code == 404


def test_transfer_from_the_customer_page(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    cid, other = crm["mine"]["id"], crm["other"]["id"]
    web.login("alice")
    page = _html(web.get(f"/customers/{cid}"))
    assert 'id="transfer-form"' in page and '<option value="bob"' in page and '<option value="alice"' not in page
    unknown = web.post(f"/customers/{cid}/transfer", {"to": "nobody"})
    assert unknown.status_code == 422 and 'id="err-to"' in _html(unknown)
    assert web.post(f"/customers/{cid}/transfer", {"to": ""}).status_code == 422
    assert web.post(f"/customers/{other}/transfer", {"to": "alice"}).status_code == 404  # bob's customer
    _made(api.post(f"/api/v1/customers/{other}/shares", "bob", json={"user": "alice", "access": "edit"}))
    shared = web.post(f"/customers/{other}/transfer", {"to": "alice"})  # an edit share may not give it away
    assert shared.status_code == 403
    assert 'id="transfer-form"' not in _html(web.get(f"/customers/{other}"))
    assert api.get(f"/api/v1/customers/{other}", "bob").get_json()["owner"] == "bob"
    resp = web.post(f"/customers/{cid}/transfer", {"to": "bob"})
    assert resp.status_code == 302
    assert api.get(f"/api/v1/customers/{cid}", "bob").get_json()["owner"] == "bob"
    assert api.get(f"/api/v1/opportunities/{crm['opp']['id']}", "bob").get_json()["owner"] == "bob"


def test_two_reps_racing_for_one_pool_customer(app, crm: dict, api) -> None:  # noqa: ANN001
    cid = crm["mine"]["id"]
    _made(api.post(f"/api/v1/customers/{cid}/release", "alice", json={}))
    clients = [Web(app), Web(app)]
    for client, who in zip(clients, ("alice", "carol"), strict=True):
        client.login(who)
    tokens = [c.csrf("/pool") for c in clients]
    codes: list[int] = [0, 0]
    bodies: list[str] = ["", ""]

    def claim(i: int) -> None:
        resp = clients[i].client.post(f"/pool/{cid}/claim", data={"csrf_token": tokens[i]})
        codes[i], bodies[i] = resp.status_code, resp.get_data(as_text=True)

    run_in_threads(2, claim)
    assert sorted(codes) in ([302, 404], [302, 409]), codes
    # The loser hears "not found" (it looked after the winner's commit: the customer is no longer readable) or
    # "just claimed by someone else" (PostgreSQL: it read the pool row before the winner committed, and its
    # conditional UPDATE found the row taken) - never the customer itself.
    loser = bodies[codes.index(max(codes))]
    assert "Acme Robotics" not in loser and "+86 21 5555 0101" not in loser
    owner = api.get(f"/api/v1/customers/{cid}", "admin").get_json()["owner"]
    assert owner == ("alice", "carol")[codes.index(302)]


# ------------------------------------------------------------------ follow-up reminders
def test_due_follow_ups_list(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    cid = crm["mine"]["id"]
    yesterday = (utcnow().date() - timedelta(days=1)).isoformat()
    web.login("alice")
    assert "Acme Robotics" not in _html(web.get("/follow-ups/due"))
    _made(api.post("/api/v1/follow-ups", "alice", json={"customer_id": cid, "type": "call", "content": "Call back",
                                                        "next_follow_up_date": yesterday}))
    html = _html(web.get("/follow-ups/due"))
    shown = f"{date.fromisoformat(yesterday):%b} {date.fromisoformat(yesterday).day}, {yesterday[:4]}"  # Dec 1, 2026
    assert "Acme Robotics" in html and "Overdue" in html and shown in html
    assert 'href="/follow-ups/due"' in _html(web.get("/customers"))
    web.logout()
    web.login("carol")
    assert "Acme Robotics" not in _html(web.get("/follow-ups/due"))
    web.logout()
    web.login("alice")
    _made(api.post("/api/v1/follow-ups", "alice", json={"customer_id": cid, "type": "visit", "content": "Done"}))
    assert "Acme Robotics" not in _html(web.get("/follow-ups/due"))  # contacted since: off the list


# ------------------------------------------------------------------ customers: edit, dropdowns, import/export
def test_edit_customer_with_dropdowns(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    cid = crm["mine"]["id"]
    web.login("alice")
    form = _html(web.get(f"/customers/{cid}/edit"))
    assert re.search(r'<option value="manufacturing"\s+selected>Manufacturing</option>', form)
    assert '<option value="trade show"' in form
    resp = web.post(f"/customers/{cid}/edit", {"name": "Acme Robotics", "industry": "energy", "region": "south",
                                               "level": "B", "source": "referral"})
    assert resp.status_code == 302
    got = api.get(f"/api/v1/customers/{cid}", "alice").get_json()
    assert (got["industry"], got["region"], got["level"], got["source"], got["phone"]) == \
        ("energy", "south", "B", "referral", None)
    bad = web.post(f"/customers/{cid}/edit", {"name": "", "level": "Z"})
    assert bad.status_code == 422 and 'id="err-name"' in _html(bad) and 'id="err-level"' in _html(bad)
    dup = web.post(f"/customers/{cid}/edit", {"name": "Bobcat Foods"})
    assert dup.status_code == 409 and 'id="err-name"' in _html(dup)
    assert web.get(f"/customers/{crm['other']['id']}/edit").status_code == 404
    assert web.post(f"/customers/{crm['other']['id']}/edit", {"name": "Mine"}).status_code == 404
    _made(api.post(f"/api/v1/customers/{cid}/shares", "alice", json={"user": "carol", "access": "read"}))
    web.logout()
    web.login("carol")  # a read share sees the customer but no edit form or button
    assert f'href="/customers/{cid}/edit"' not in _html(web.get(f"/customers/{cid}"))
    assert web.get(f"/customers/{cid}/edit").status_code == 403
    assert web.post(f"/customers/{cid}/edit", {"name": "Carol Co"}).status_code == 403


def test_export_the_filtered_list(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    _made(api.post("/api/v1/customers", "alice", json={"name": "=cmd|calc", "industry": "retail"}))
    web.login("alice")
    resp = web.get("/customers?format=csv&industry=manufacturing")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [r["name"] for r in rows] == ["Acme Robotics"]
    everything = list(csv.DictReader(io.StringIO(web.get("/customers?format=csv").get_data(as_text=True))))
    names = {r["name"] for r in everything}
    assert "Bobcat Foods" not in names and "'=cmd|calc" in names  # my scope only; no formula injection
    xlsx = web.get("/customers?format=xlsx&q=acme")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert "format=xlsx&amp;industry=manufacturing" in _html(web.get("/customers?industry=manufacturing"))
    assert web.get("/customers?format=pdf").status_code == 422


def test_import_reports_bad_rows_by_number(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    web.login("alice")
    good = "name,industry,level\nNova Metals,manufacturing,B\nOrbit Foods,food,C\n"
    resp = web.post("/customers/import", {"file": (io.BytesIO(good.encode()), "customers.csv")},
                    csrf_from="/customers", content_type="multipart/form-data")
    assert resp.status_code == 302
    assert "Nova Metals" in _html(web.get("/customers?q=nova"))
    zh = "name,industry,region,level,source\n华东机械,制造业,华东,D级,转介绍\n".encode()
    resp = web.post("/customers/import", {"file": (io.BytesIO(zh), "zh.csv")},
                    csrf_from="/customers", content_type="multipart/form-data")
    assert resp.status_code == 302  # Chinese option labels are stored as the keys the filters use
    made = api.get("/api/v1/customers", "alice", query_string={"q": "华东机械"}).get_json()["items"][0]
    assert (made["industry"], made["region"], made["level"], made["source"]) == ("manufacturing", "east", "D",
                                                                                 "referral")
    bad = "name,level\nStar Glass,A\n,B\nLuna Ltd,Q\n<b>Acme Robotics</b>,A\n"
    resp = web.post("/customers/import", {"file": (io.BytesIO(bad.encode()), "bad.csv")},
                    csrf_from="/customers", content_type="multipart/form-data")
    html = _html(resp)
    assert resp.status_code == 422 and 'id="import-errors"' in html
    report = re.findall(r'data-label="Row">(\d+)</td><td data-label="Field">(\w+)</td>', html)
    assert ("3", "Name") in report and ("4", "Level") in report  # the column by its label
    assert "Star Glass" not in _html(web.get("/customers?q=star"))  # all or nothing
    wrong = web.post("/customers/import", {"file": (io.BytesIO(b"\x00\x01"), "x.pdf")},
                     csrf_from="/customers", content_type="multipart/form-data")
    assert wrong.status_code == 422 and 'id="import-errors"' in _html(wrong)
    empty = web.post("/customers/import", {}, csrf_from="/customers", content_type="multipart/form-data")
    assert empty.status_code == 422
    big = web.post("/customers/import", {"file": (io.BytesIO(b"name\n" + b"a" * (6 * 2**20)), "big.csv")},
                   csrf_from="/customers", content_type="multipart/form-data")
    assert big.status_code == 413


# ------------------------------------------------------------------ operation log
def test_operation_log_tabs(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    cid, oid = crm["mine"]["id"], crm["opp"]["id"]
    won = _made(api.post(f"/api/v1/opportunities/{oid}/win", "alice", json={"reason": "signed"}))
    web.login("alice")
    assert web.post(f"/customers/{cid}/edit", {"name": "Acme Robotics", "industry": "manufacturing",
                                               "region": "north", "level": "A"}).status_code == 302
    assert f'href="/customers/{cid}/log"' in _html(web.get(f"/customers/{cid}"))
    log = _html(web.get(f"/customers/{cid}/log"))
    assert 'id="operation-log"' in log and "Alice (Sales Rep)" in log and "Changed" in log
    assert "<strong>Region</strong>: <del>East</del> → <ins>North</ins>" in log  # labels, not keys
    olog = _html(web.get(f"/opportunities/{oid}/log"))
    assert "Won" in olog and "signed" in olog
    shown = re.search(r"<strong>Closed</strong>: <del>—</del> → <ins>([^<]+)</ins>", olog)
    assert shown and re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}, \d{4},? \d{1,2}:\d{2}( [AP]M)?", shown.group(1)), olog
    klog = _html(web.get(f"/contracts/{won['contract']['id']}/log"))
    assert "Record created" in klog
    assert api.client.put(f"/api/v1/customers/{cid}/credit-limit", headers=api.headers("admin"),
                          json={"credit_limit": 1234567.5}).status_code == 200
    money = re.search(r"<strong>Credit limit</strong>: <del>[^<]*</del> → <ins>([^<]+)</ins>",
                      _html(web.get(f"/customers/{cid}/log")))
    assert money and money.group(1) == "1,234,567.50"  # money as money, not 1234567.5
    web.logout()
    web.login("frank")
    for url in (f"/customers/{cid}/log", f"/opportunities/{oid}/log", f"/contracts/{won['contract']['id']}/log"):
        assert web.get(url).status_code == 404, url


# ------------------------------------------------------------------ markup and language
def test_markup_in_data_is_escaped(web: Web, api) -> None:  # noqa: ANN001
    evil = '<img src=x onerror=alert(1)>'
    c = _made(api.post("/api/v1/customers", "alice", json={"name": f"Evil {evil}", "industry": evil,
                                                            "source": evil}))
    o = _made(api.post("/api/v1/opportunities", "alice", json={"customer_id": c["id"], "name": evil}))
    _made(api.post("/api/v1/contacts", "alice", json={"customer_id": c["id"], "name": evil}))
    web.login("alice")
    for url in (f"/customers/{c['id']}", f"/customers/{c['id']}/edit", f"/customers/{c['id']}/log",
                f"/opportunities/{o['id']}", f"/opportunities/{o['id']}/log", "/opportunities/board",
                "/opportunities/new", "/customers"):
        html = _html(web.get(url))
        assert evil not in html and "&lt;img src=x onerror=alert(1)&gt;" in html, url


def test_enum_labels_are_translated_in_chinese(web: Web, crm: dict) -> None:
    cid = crm["mine"]["id"]
    web.login("alice")
    web.get("/lang/zh_CN")
    page = _html(web.get(f"/customers/{cid}"))
    assert "制造业" in page and "华东" in page and "manufacturing" not in page
    listing = _html(web.get("/customers"))
    assert "制造业" in listing and ">manufacturing<" not in listing and "今日需联系" in listing
    form = _html(web.get(f"/customers/{cid}/edit"))
    assert ">制造业</option>" in form and ">Manufacturing<" not in form
    board = _html(web.get("/opportunities/board"))
    assert "新建商机" in board and "商机看板" in board
    opp = _html(web.get(f"/opportunities/{crm['opp']['id']}"))
    assert "操作日志" in opp and ">qualified<" not in opp
    web.post(f"/customers/{cid}/edit", {"name": "Acme Robotics", "industry": "retail", "level": "A"})
    log = _html(web.get(f"/customers/{cid}/log"))
    assert "<strong>行业</strong>: <del>制造业</del> → <ins>零售</ins>" in log and "industry" not in log
