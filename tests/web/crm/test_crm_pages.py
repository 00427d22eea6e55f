"""The CRM pages: each renders for the right user, keeps to the data scope (another rep's customer is 404)
and shows bad input on the field (422), never a 500."""

from __future__ import annotations

import re

from tests.web.conftest import Web


def _html(resp) -> str:  # noqa: ANN001
    return resp.get_data(as_text=True)


def test_customer_list_search_and_scope(web: Web, crm: dict) -> None:
    web.login("alice")
    html = _html(web.get("/customers"))
    assert "Acme Robotics" in html and "Bobcat Foods" not in html
    for q in ("acme", "5555", "manufact", "EAST"):
        assert "Acme Robotics" in _html(web.get(f"/customers?q={q}")), q
    assert "No customers match" in _html(web.get("/customers?q=zzz%25_"))
    assert "Acme Robotics" in _html(web.get("/customers?level=A"))
    bad = web.get("/customers?level=Z")
    assert bad.status_code == 422 and "level" in _html(bad)
    assert web.get("/customers?colour=red").status_code == 422
    web.logout()
    web.login("bob")  # the manager sees his rep's customers too
    html = _html(web.get("/customers"))
    assert "Acme Robotics" in html and "Bobcat Foods" in html


def test_customer_detail_shows_related_records_and_scope(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    api.post(f"/api/v1/opportunities/{crm['opp']['id']}/win", "alice", json={"reason": "signed"})
    api.post("/api/v1/tickets", "alice", json={"customer_id": crm["mine"]["id"], "title": "Arm squeaks"})
    web.login("alice")
    resp = web.get(f"/customers/{crm['mine']['id']}")
    html = _html(resp)
    assert resp.status_code == 200
    for text in ("Asked for a quote", "Arm upgrade", "Contract for Arm upgrade", "Arm squeaks", "Add a follow-up"):
        assert text in html, text
    assert web.get(f"/customers/{crm['other']['id']}").status_code == 404
    assert web.get("/customers/999999").status_code == 404
    web.logout()
    web.login("carol")
    assert web.get(f"/customers/{crm['mine']['id']}").status_code == 404


def test_create_customer_and_its_errors(web: Web, crm: dict) -> None:
    web.login("alice")
    assert 'name="name"' in _html(web.get("/customers/new"))
    resp = web.post("/customers/new", {"name": "Zenith Labs", "level": "B", "region": "west"},
                    csrf_from="/customers/new")
    assert resp.status_code == 302
    assert "Zenith Labs" in _html(web.get(resp.headers["Location"]))
    missing = web.post("/customers/new", {"name": "  ", "level": "Q"}, csrf_from="/customers/new")
    html = _html(missing)
    assert missing.status_code == 422 and 'id="err-name"' in html and 'id="err-level"' in html
    dup = web.post("/customers/new", {"name": "acme  robotics"}, csrf_from="/customers/new")
    assert dup.status_code == 409 and 'id="err-name"' in _html(dup)
    nul = web.post("/customers/new", {"name": "bad\x00name"}, csrf_from="/customers/new")
    assert nul.status_code == 422 and 'id="err-name"' in _html(nul)
    extra = web.post("/customers/new", {"name": "Extra Co", "owner": "bob"}, csrf_from="/customers/new")
    assert extra.status_code == 422 and 'id="err-owner"' not in _html(extra) and "owner" in _html(extra)
    assert web.client.post("/customers/new", data={"name": "No Token Co"}).status_code == 400


def test_add_follow_up(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    cid = crm["mine"]["id"]
    web.login("alice")
    resp = web.post(f"/customers/{cid}/follow-ups", {"type": "visit", "content": "Visited the plant",
                                                     "next_follow_up_date": "2026-12-01", "satisfaction": "4"})
    assert resp.status_code == 302
    assert "Visited the plant" in _html(web.get(f"/customers/{cid}"))
    bad = web.post(f"/customers/{cid}/follow-ups", {"type": "fax", "content": "", "satisfaction": "9",
                                                    "next_follow_up_date": "soon"})
    html = _html(bad)
    assert bad.status_code == 422
    for name in ("type", "content", "satisfaction", "next_follow_up_date"):
        assert f'id="err-{name}"' in html, name
    assert web.post(f"/customers/{crm['other']['id']}/follow-ups", {"type": "call", "content": "x"}).status_code == 404
    # a read-only share may look but not add
    api.post(f"/api/v1/customers/{crm['other']['id']}/shares", "bob", json={"user": "alice", "access": "read"})
    assert "may read this customer but not change it" in _html(web.get(f"/customers/{crm['other']['id']}"))
    assert web.post(f"/customers/{crm['other']['id']}/follow-ups",
                    {"type": "call", "content": "x"}).status_code == 403


def test_board_and_moving_cards(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    oid = crm["opp"]["id"]
    web.login("alice")
    html = _html(web.get("/opportunities/board"))
    assert re.search(r'data-stage="qualified".*?Arm upgrade', html, re.S)
    assert 'draggable="true"' in html
    resp = web.post(f"/opportunities/{oid}/stage", {"stage": "proposal"}, csrf_from="/opportunities/board")
    assert resp.status_code == 302
    assert api.get(f"/api/v1/opportunities/{oid}", "alice").get_json()["stage"] == "proposal"
    # the script's JSON answer
    token = web.csrf("/opportunities/board")
    resp = web.client.post(f"/opportunities/{oid}/stage", data={"stage": "negotiation"},
                           headers={"X-CSRFToken": token, "X-Requested-With": "fetch"})
    assert resp.status_code == 200 and resp.get_json() == {"id": oid, "stage": "negotiation", "status": "open",
                                                           "probability": 75}
    bad = web.client.post(f"/opportunities/{oid}/stage", data={"stage": "lost"},
                          headers={"X-CSRFToken": token, "X-Requested-With": "fetch"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "reason"
    bad = web.post(f"/opportunities/{oid}/stage", {"stage": "sideways"})
    assert bad.status_code == 422 and "stage" in _html(bad)
    won = web.post(f"/opportunities/{oid}/stage", {"stage": "won", "reason": "signed today"})
    assert won.status_code == 302
    assert api.get(f"/api/v1/opportunities/{oid}", "alice").get_json()["status"] == "won"
    assert web.post(f"/opportunities/{oid}/stage", {"stage": "lead"}).status_code == 409
    assert web.client.post(f"/opportunities/{oid}/stage", data={"stage": "lead"}).status_code == 400  # no CSRF
    other = api.post("/api/v1/opportunities", "bob", json={"customer_id": crm["other"]["id"], "name": "Pies"})
    assert web.post(f"/opportunities/{other.get_json()['id']}/stage", {"stage": "proposal"}).status_code == 404
    assert "Pies" not in _html(web.get("/opportunities/board"))
