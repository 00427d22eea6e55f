"""The CRM, OA and dashboard pages: each renders for the right user, keeps to the data scope (another rep's
customer is 404) and shows bad input on the field (422), never a 500."""

from __future__ import annotations

import re

from tests.web.conftest import Web


def _html(resp) -> str:  # noqa: ANN001
    return resp.get_data(as_text=True)


# ------------------------------------------------------------------ customers
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


# ------------------------------------------------------------------ opportunity board
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


# ------------------------------------------------------------------ OA pages
def test_clock_in_out_and_month(web: Web) -> None:
    web.login("alice")
    html = _html(web.get("/attendance"))
    assert 'id="clock-in"' in html and 'data-count="work_days"' in html
    assert web.post("/attendance/clock-in", csrf_from="/attendance").status_code == 302
    html = _html(web.get("/attendance"))
    assert 'id="clock-out"' in html and 'id="records"' in html
    again = web.post("/attendance/clock-in", csrf_from="/attendance")
    assert again.status_code == 409
    assert web.post("/attendance/clock-out", csrf_from="/attendance").status_code == 302
    assert web.post("/attendance/clock-out", csrf_from="/attendance").status_code == 409
    assert 'data-count="present"><strong>1<' in _html(web.get("/attendance"))
    assert "No records this month" in _html(web.get("/attendance?month=2020-01"))
    bad = web.get("/attendance?month=2026-13")
    assert bad.status_code == 422 and "month" in _html(bad)


def test_announcements_and_read_marking(web: Web, api) -> None:  # noqa: ANN001
    made = api.post("/api/v1/announcements", "admin", json={"title": "Office move", "body": "We move on Monday."})
    aid = made.get_json()["id"]
    web.login("alice")
    html = _html(web.get("/announcements"))
    assert "Office move" in html and f'action="/announcements/{aid}/read"' in html
    assert web.post(f"/announcements/{aid}/read", csrf_from="/announcements").status_code == 302
    html = _html(web.get("/announcements"))
    assert "Office move" in html and f'action="/announcements/{aid}/read"' not in html
    assert "Office move" not in _html(web.get("/announcements?unread=true"))
    assert web.post("/announcements/999999/read", csrf_from="/announcements").status_code == 404
    assert web.get("/announcements?unread=maybe").status_code == 422


def test_calendar_week_view(web: Web, api) -> None:  # noqa: ANN001
    made = api.post("/api/v1/calendar/events", "alice", json={
        "title": "Quarterly review", "start": "2026-03-04T09:00:00", "end": "2026-03-04T10:30:00",
        "attendees": ["bob"]})
    assert made.status_code == 201, made.get_json()
    web.login("bob")
    html = _html(web.get("/calendar?week=2026-03-05"))
    assert re.search(r'data-date="2026-03-04">.*?09:00–10:30.*?Quarterly review', html, re.S)
    assert 'href="/calendar?week=2026-02-23"' in html and 'href="/calendar?week=2026-03-09"' in html
    assert "Quarterly review" not in _html(web.get("/calendar?week=2026-03-09"))
    web.logout()
    web.login("carol")
    assert "Quarterly review" not in _html(web.get("/calendar?week=2026-03-05"))
    bad = web.get("/calendar?week=next")
    assert bad.status_code == 422 and "week" in _html(bad)


def test_notifications_mark_read(web: Web, api) -> None:  # noqa: ANN001
    api.start_leave("alice")  # bob is notified of his new task
    web.login("bob")
    html = _html(web.get("/notifications"))
    ids = re.findall(r'action="/notifications/(\d+)/read"', html)
    assert ids
    assert web.post(f"/notifications/{ids[0]}/read", csrf_from="/notifications").status_code == 302
    assert f'action="/notifications/{ids[0]}/read"' not in _html(web.get("/notifications"))
    web.logout()
    web.login("alice")  # someone else's notification is not found
    assert web.post(f"/notifications/{ids[-1]}/read", csrf_from="/notifications").status_code == 404
    web.logout()
    web.login("bob")
    assert web.post("/notifications/read-all", csrf_from="/notifications").status_code == 302
    assert "0 unread" in _html(web.get("/notifications"))
    assert web.get("/notifications?page=0").status_code == 422


# ------------------------------------------------------------------ dashboard and menu
def test_dashboard_charts_in_scope(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    web.login("alice")
    html = _html(web.get("/dashboard"))
    for chart in ("chart-pipeline", "chart-forecast", "chart-approvals", "chart-attendance"):
        assert f'id="{chart}"' in html, chart
    assert "<svg" in html and "120,000 (1)" in html
    assert "2026-12" in html  # the forecast month
    web.logout()
    web.login("carol")  # nothing of alice's pipeline
    html = _html(web.get("/dashboard"))
    assert "120,000" not in html
    assert web.get("/dashboard?month=13-2026").status_code == 422


def test_menu_respects_roles(web: Web) -> None:
    web.login("alice")
    html = _html(web.get("/"))
    assert 'href="/customers"' in html and 'href="/opportunities/board"' in html and 'href="/dashboard"' in html
    web.logout()
    web.login("carol")
    html = _html(web.get("/"))
    assert 'href="/customers"' not in html and 'href="/attendance"' in html and 'href="/notifications"' in html


def test_new_pages_in_chinese(web: Web, crm: dict) -> None:
    web.login("alice")
    web.get("/lang/zh_CN")
    for path, label in (("/customers", "客户"), ("/opportunities/board", "商机看板"), ("/dashboard", "仪表盘"),
                        ("/attendance", "考勤"), ("/calendar", "日历"), ("/announcements", "公告"),
                        ("/notifications", "通知")):
        resp = web.get(path)
        assert resp.status_code == 200 and label in _html(resp), path
