"""The main navigation reaches the reports directly (not only through the dashboard's "All reports"), and the
start catalogue shows process versions only to those who design processes."""

from __future__ import annotations

import re

from tests.web.conftest import Web


def test_every_user_finds_reports_in_the_main_navigation(web: Web) -> None:
    for who in ("alice", "carol"):
        web.login(who)
        html = web.get("/approvals", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
        nav = html.split('<nav class="nav">', 1)[1].split("</nav>", 1)[0]
        assert re.search(r'<a href="/reports" id="nav-reports">报表</a>', nav), nav
        assert web.get("/reports").status_code == 200
        web.logout()


def test_versions_on_the_start_catalogue_only_for_designers(web: Web) -> None:
    web.login("alice")
    html = web.get("/start").get_data(as_text=True)
    assert 'data-key="leave_request"' in html and not re.search(r">v\d+<", html)
    web.logout()
    web.login("grace")  # the process designer still sees which version a request would start
    assert re.search(r'data-key="leave_request"><strong>[^<]+</strong><span class="muted">v\d+<',
                     web.get("/start").get_data(as_text=True))
