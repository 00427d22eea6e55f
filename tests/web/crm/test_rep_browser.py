"""Browser: a rep walks board → new opportunity → customer page → add a contact → operation-log tab, at desktop
and phone width (390 px), in English and zh-CN; the board scrolls by column on the phone, no page scrolls
sideways, and any CSP violation or script error fails the walk. Screenshots of the board and the customer
page go to test-artifacts/crm-*.png."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import ARTIFACTS, CSP_WATCH, login

VIEWPORTS = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}
TEXT = {  # what the walk expects to read, per language
    "en": {"board": "Opportunity board", "created": "Record created", "stage": "Proposal", "log": "Operation log"},
    "zh_CN": {"board": "商机看板", "created": "新建", "stage": "方案", "log": "操作日志"},
}


def _no_sideways_scroll(pg) -> None:  # noqa: ANN001
    pg.wait_for_load_state("load")  # measured before the stylesheet applies, a page is wider than it is
    assert pg.evaluate("document.documentElement.scrollWidth") <= pg.viewport_size["width"] + 2, pg.url


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_board_new_opportunity_contact_and_log(browser, live_server: str, crm: dict, size: str,  # noqa: ANN001
                                              lang: str) -> None:
    text, tag = TEXT[lang], f"{size}-{lang}"
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(base_url=live_server, viewport=VIEWPORTS[size])
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_WATCH)
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda msg: problems.append(msg.text)
          if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
    pg.on("pageerror", lambda err: problems.append(str(err)))
    try:
        login(pg, "alice")
        if lang != "en":
            pg.goto(f"/lang/{lang}?next=/opportunities/board")
        pg.goto("/opportunities/board")
        assert text["board"] in pg.inner_text("h1")
        _no_sideways_scroll(pg)
        if size == "phone":  # one column at a time, snapping
            board = pg.locator("#board")
            assert board.evaluate("b => getComputedStyle(b).scrollSnapType").startswith("x")
            assert board.evaluate("b => b.scrollWidth > b.clientWidth * 3")
            assert pg.locator(".column").first.evaluate("c => getComputedStyle(c).scrollSnapAlign") == "start"
            width = pg.locator(".column").first.evaluate("c => c.getBoundingClientRect().width")
            assert 0.6 * 390 < width <= 390
        pg.screenshot(path=str(ARTIFACTS / f"crm-board-{tag}.png"))

        pg.click("#new-opportunity")
        pg.wait_for_url("**/opportunities/new")
        pg.select_option("select[name=customer_id]", str(crm["mine"]["id"]))
        pg.fill("input[name=name]", "Vision cell")
        pg.select_option("select[name=stage]", "proposal")
        pg.fill("input[name=amount]", "64000")
        pg.fill("input[name=expected_close_date]", "2027-03-31")
        _no_sideways_scroll(pg)
        pg.click("#opportunity-form button.primary")
        pg.wait_for_url(re.compile(r".*/opportunities/\d+$"))
        assert "Vision cell" in pg.inner_text("h1") and text["stage"] in pg.inner_text("h1")
        assert "64,000.00" in pg.inner_text("#opp-amount")

        pg.click("#opportunity a:has-text('Acme Robotics')")
        pg.wait_for_url(f"**/customers/{crm['mine']['id']}")
        assert "Vision cell" in pg.inner_text("#opportunities")
        pg.click("#add-contact summary")
        pg.fill("#add-contact input[name=name]", "Wang Fang")
        pg.fill("#add-contact input[name=title]", "Plant manager")
        pg.fill("#add-contact input[name=email]", "wang@example.com")
        pg.click("#add-contact button.primary")
        pg.wait_for_selector("#contacts td:has-text('Wang Fang')")
        pg.wait_for_load_state("load")  # the picker's deferred script has run (the row can show before it)
        pg.fill("input[data-filter-for=f-to]", "head of sales")  # the person picker narrows the list
        assert pg.locator("#f-to").input_value() == "bob"
        _no_sideways_scroll(pg)
        pg.screenshot(path=str(ARTIFACTS / f"crm-customer-{tag}.png"), full_page=True)

        pg.click(f".tabs a:has-text('{text['log']}')")
        pg.wait_for_selector("#operation-log")
        log = pg.inner_text("#operation-log")
        assert "Alice (Sales Rep)" in log and text["created"] in log
        _no_sideways_scroll(pg)
        problems += pg.evaluate("window.__csp || []") or []
    finally:
        context.close()
    assert not problems, problems
