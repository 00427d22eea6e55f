"""The OA pages: attendance, announcements, calendar and notifications, each for its user only."""

from __future__ import annotations

import re

from tests.web.conftest import Web


def _html(resp) -> str:  # noqa: ANN001
    return resp.get_data(as_text=True)


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
