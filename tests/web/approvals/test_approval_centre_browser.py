"""The approval centre and a request page in a real browser (Debian's chromium), at desktop and phone width,
in English and Chinese: tabs, the outcome label, the timeline, the diagram behind its link with zoom buttons,
and the chain preview on a start form — with no Content-Security-Policy error and no sideways scrolling."""

from __future__ import annotations

import pytest

from tests.web.conftest import CSP_WATCH, login, page_problems, shot

CASES = [("en", 1280, {"tab": "Copied to me", "outcome": "Rejected", "chain": "Finance approval",
                       "step": "Manager approval"}),
         ("zh-CN", 390, {"tab": "抄送我的", "outcome": "已拒绝", "chain": "财务审批", "step": "经理审批"})]


@pytest.mark.parametrize(("locale", "width", "words"), CASES, ids=["desktop-en", "phone-zh"])
def test_centre_to_request_page(browser, live_server: str, api, locale: str, width: int,  # noqa: ANN001
                                words: dict) -> None:
    resp = api.start_leave("alice", 2, reason="<b>dentist</b>")
    inst = resp.get_json()["id"]
    [task] = api.tasks("bob", instance_id=inst)
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob",
                    json={"variables": {"approved": False}, "comment": "clashes with the fair"}).status_code == 200

    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 844}, locale=locale,
                                  extra_http_headers={"Accept-Language": locale})
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_WATCH)
    pg = context.new_page()
    pg.problems = []
    pg.on("console", lambda msg: pg.problems.append(msg.text)
          if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
    pg.on("pageerror", lambda err: pg.problems.append(str(err)))
    try:
        login(pg, "alice")
        pg.goto("/approvals?tab=mine")
        assert pg.locator(f"nav.tabs a:has-text('{words['tab']}')").count() == 1
        row = pg.locator(f"tr[data-instance='{inst}']")
        assert row.locator("[data-outcome=rejected]").inner_text().strip() == words["outcome"]
        assert pg.evaluate("document.documentElement.scrollWidth") <= width + 10
        shot(pg, f"approval-centre-{locale}-{width}")
        row.locator("a").first.click()
        pg.wait_for_url(f"**/instances/{inst}")
        assert pg.locator("#outcome").inner_text().strip() == words["outcome"]
        assert "<b>dentist</b>" in pg.locator("#request-data").inner_text()  # markup shown as text
        assert "clashes with the fair" in pg.locator("#timeline").inner_text()
        assert pg.locator("#resubmit").is_visible() and pg.locator("#withdraw").count() == 0
        assert pg.evaluate("document.documentElement.scrollWidth") <= width + 10
        shot(pg, f"request-page-{locale}-{width}")
        pg.click("#diagram-link")
        pg.wait_for_selector(".diagram[data-state=ready]")
        drawn = pg.locator(".diagram .djs-element text").all_text_contents()  # the labels bpmn-js drew
        assert words["step"] in "".join(drawn), drawn
        pg.click("[data-zoom=in]")
        pg.wait_for_selector(".diagram[data-zoom]")
        pg.click("[data-zoom=fit]")
        assert pg.evaluate("document.documentElement.scrollWidth") <= width + 10
        pg.goto(f"/instances/{inst}")
        pg.click("#resubmit")
        pg.wait_for_selector("#start-form")
        assert pg.locator("textarea[name='v:reason']").input_value() == "<b>dentist</b>"
        pg.goto("/start/expense_claim")
        pg.fill("input[name='v:items/0/amount']", "20000")
        pg.select_option("select[name='v:items/0/category']", "travel")
        pg.wait_for_selector("#chain-preview[data-steps='3']")
        assert words["chain"] in pg.locator("#chain-steps").inner_text()
        shot(pg, f"chain-preview-{locale}-{width}")
        assert not page_problems(pg), page_problems(pg)
    finally:
        context.close()
