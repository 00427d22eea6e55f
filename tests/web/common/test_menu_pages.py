"""The shared layout: the menu shows each area to the right users, and every area's pages speak Chinese."""

from __future__ import annotations

from tests.web.conftest import Web


def _html(resp) -> str:  # noqa: ANN001
    return resp.get_data(as_text=True)


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
