"""On a phone (390 px) in Chinese, in the company zone (Asia/Shanghai): the attendance month reads as office
hours with remarks that add up to its tiles, and an approved 2-day leave is two 全天 年假 entries; neither page
scrolls sideways (new-user findings 2 and 3). Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from store.clock import set_company_timezone
from tests.web.conftest import login, shot


@pytest.fixture
def shanghai(app) -> Iterator[None]:  # noqa: ANN001
    """The company zone is the default Asia/Shanghai (the live server runs in this process)."""
    set_company_timezone("Asia/Shanghai")
    yield
    set_company_timezone(os.environ.get("OAFLOW_TIMEZONE", "UTC"))


def test_attendance_and_leave_on_a_phone_in_chinese(browser, live_server: str, app, api, shanghai) -> None:  # noqa: ANN001
    from api.extensions import db
    from oa import demo_records
    with app.app_context():
        demo_records.seed(db.session, progress=lambda _msg: None)
        db.session.commit()
    leave = api.start_leave("alice", start_date="2026-12-21", end_date="2026-12-22").get_json()
    task = next(t for t in api.tasks("bob") if t["instance_id"] == leave["id"])
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob",
                    json={"variables": {"approved": True}}).status_code == 200
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844},
                                  locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"})
    pg = context.new_page()
    try:
        login(pg, "alice")
        pg.goto("/attendance")
        pg.goto("/attendance?month=" + pg.locator("a[rel=prev]").get_attribute("href").split("=")[-1])
        times = pg.locator("#records td[data-label='上班打卡']").all_inner_texts()
        assert times and all("08:30" <= t <= "09:50" for t in times), times
        assert all("17:00" <= t <= "18:40" for t in pg.locator("#records td[data-label='下班打卡']").all_inner_texts())
        late_rows = pg.locator("#records .badge", has_text="迟到").count()
        assert pg.locator("[data-count=late] strong").inner_text() == str(late_rows)
        assert late_rows < len(times) // 2
        assert pg.evaluate("document.documentElement.scrollWidth") <= 400
        shot(pg, "attendance-month-phone-zh")
        pg.goto("/calendar?week=2026-12-21")
        for day in ("2026-12-21", "2026-12-22"):
            entry = pg.locator(f"section[data-date='{day}'] .event")
            assert entry.count() == 1 and "全天" in entry.inner_text() and "年假" in entry.inner_text()
        assert pg.locator("section[data-date='2026-12-23'] .event").count() == 0
        assert pg.evaluate("document.documentElement.scrollWidth") <= 400
        shot(pg, "calendar-leave-phone-zh")
    finally:
        context.close()
