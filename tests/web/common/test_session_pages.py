"""The shared web pages through a cookie-keeping test client: login (lockout, open redirect), session cookie,
CSRF on the pages but not the API, the home counts, the language switch, the bpmn-js files, the catalogue."""

from __future__ import annotations

import re

from tests.web.conftest import LEAVE, Web


def test_pages_need_login_and_redirect_back(web: Web) -> None:
    resp = web.get("/tasks")
    assert resp.status_code == 302 and "/login?next=/tasks" in resp.headers["Location"]
    bad = web.login("alice", "wrong")
    assert bad.status_code == 401 and "wrong password" in bad.get_data(as_text=True)
    token = web.csrf("/login?next=/tasks")
    ok = web.client.post("/login?next=/tasks", data={"username": "alice", "password": "demo", "csrf_token": token})
    assert ok.status_code == 302 and ok.headers["Location"] == "/tasks"
    # an open redirect is refused
    web.logout()
    token = web.csrf("/login")
    resp = web.client.post("/login?next=//evil.example/x", data={"username": "alice", "password": "demo",
                                                                 "csrf_token": token})
    assert resp.headers["Location"] == "/"


def test_web_login_honours_the_account_lockout(web: Web) -> None:
    from oa.lockout import LockoutPolicy
    web.app.config["OAFLOW_LOCKOUT"] = LockoutPolicy(threshold=2, minutes=5)
    web.login("alice", "bad")
    web.login("alice", "bad")
    assert web.login("alice").status_code == 401  # locked: even the right password is refused


def test_session_cookie_flags(web: Web) -> None:
    resp = web.login("alice")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_forms_need_csrf_but_api_does_not(web: Web, api) -> None:  # noqa: ANN001
    resp = web.client.post("/login", data={"username": "alice", "password": "demo"})
    assert resp.status_code == 400 and "Form expired" in resp.get_data(as_text=True)
    web.login("alice")
    resp = web.client.post("/start/leave_request", data=LEAVE)
    assert resp.status_code == 400
    # the bearer-token API stays CSRF-free, and a session cookie does not authenticate it
    assert api.start_leave().status_code == 201
    assert web.client.get("/api/v1/tasks").status_code == 401


def test_home_counts(web: Web, api) -> None:  # noqa: ANN001
    api.start_leave("alice")
    web.login("bob")
    html = web.get("/").get_data(as_text=True)
    assert re.search(r'data-count="tasks"><strong>1<', html)
    web.logout()
    web.login("alice")
    html = web.get("/").get_data(as_text=True)
    assert re.search(r'data-count="requests"><strong>1<', html)
    assert re.search(r'data-count="notifications"><strong>\d+<', html)


def test_language_switch(web: Web) -> None:
    web.login("alice")
    web.get("/lang/zh_CN")
    html = web.get("/approvals").get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "待我处理" in html
    assert web.get("/lang/fr").status_code == 404
    web.get("/lang/en")
    assert "Waiting for me" in web.get("/approvals").get_data(as_text=True)
    fresh = Web(web.app)
    assert 'lang="zh-CN"' in fresh.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)


def test_vendor_bpmn_js_is_served_from_node_modules(web: Web) -> None:
    resp = web.get("/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js")
    assert resp.status_code == 200, "bpmn-js missing: run `npm ci` (make install does)"
    assert web.get("/vendor/bpmn-js/../../package.json").status_code == 404


def test_every_label_has_a_chinese_translation() -> None:
    from api.web.i18n import missing
    assert missing() == []


def test_a_session_ends_twelve_hours_after_log_in_however_active(web: Web) -> None:
    """The cookie expires 12 hours after log-in (not Flask's 31 days), and a session re-signed later (a
    language switch) still ends 12 hours after its log-in: the log-in time travels in the session."""
    from datetime import UTC, datetime, timedelta
    from email.utils import parsedate_to_datetime

    resp = web.login("alice")
    cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("oaflow_session="))
    expires = parsedate_to_datetime(cookie.split("Expires=", 1)[1].split(";", 1)[0])
    lifetime = expires - datetime.now(UTC)  # the test client sends no Date header
    assert timedelta(hours=11, minutes=55) <= lifetime <= timedelta(hours=12, minutes=5), cookie
    assert web.get("/approvals").status_code == 200
    with web.client.session_transaction() as sess:
        sess["at"] -= 11 * 3600  # logged in 11 hours ago: still in
    assert web.get("/lang/zh_CN").status_code == 302 and web.get("/approvals").status_code == 200
    with web.client.session_transaction() as sess:
        sess["at"] -= 3600 + 60  # 12 hours and a minute ago, whatever was re-signed since
    ended = web.get("/approvals")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    with web.client.session_transaction() as sess:
        assert "uid" not in sess  # the stale session is dropped, not kept
        sess.update({"uid": 1, "tv": 0, "se": 0})  # a cookie without a log-in time (older build) is no session
    assert web.get("/approvals").status_code == 302
