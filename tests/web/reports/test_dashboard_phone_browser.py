"""The dashboard on a phone (Debian's chromium, 390 px, English and Chinese): every row label of every chart is
whole (its own line above the bars, never "Bob (Head of Sal…") and inside the drawing, and every row says
something — a request approved within seconds still shows its cycle time instead of an empty row."""

from __future__ import annotations

import pytest

from tests.web.conftest import CSP_WATCH, login, page_problems, shot


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_dashboard_labels_whole_and_no_blank_row_on_a_phone(browser, live_server: str, api, locale: str) -> None:  # noqa: ANN001
    inst = api.start_leave("alice", 2).get_json()["id"]
    [task] = api.tasks("bob", instance_id=inst)
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob",
                    json={"variables": {"approved": True}}).status_code == 200  # a cycle time of about 0 hours
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844}, locale=locale,
                                  extra_http_headers={"Accept-Language": locale})
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_WATCH)
    pg = context.new_page()
    pg.problems = []
    pg.on("pageerror", lambda err: pg.problems.append(str(err)))
    try:
        login(pg, "bob")
        pg.goto("/dashboard")
        pg.wait_for_load_state("load")
        charts = pg.locator("svg.bars.chart-phone")
        assert charts.count() >= 3
        for i in range(charts.count()):
            svg = charts.nth(i)
            assert svg.is_visible()
            cut = svg.evaluate("""s => [...s.querySelectorAll('text.label')].filter(t => t.textContent.includes('…')
                || t.getBBox().x < 0 || t.getBBox().x + t.getBBox().width > s.viewBox.baseVal.width)
                .map(t => t.textContent)""")
            assert cut == [], cut
        cycle = pg.locator("#chart-approvals svg.chart-phone")
        labels = cycle.locator("text.label").all_text_contents()
        assert ("Leave request" if locale == "en" else "请假申请") in labels, labels
        values = cycle.locator("text.value").all_text_contents()
        assert values and all(v.strip() for v in values[:2]), values  # the row says its times: "< 0.1"
        assert "< 0.1" in values
        names = pg.locator("#chart-attendance svg.chart-phone text.label").all_text_contents()
        assert "Bob (Head of Sales)" in names, names  # whole, not "Bob (Head of Sal…"
        assert pg.evaluate("document.documentElement.scrollWidth") <= 400
        shot(pg, f"dashboard-phone-{locale}")
        assert not page_problems(pg)
    finally:
        context.close()
