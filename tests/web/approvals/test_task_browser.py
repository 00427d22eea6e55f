"""Browser journey (Playwright, Debian chromium): alice files an expense claim with a receipt and sees the
total computed while she types; bob reads it on his task page and hands it to dave with the person picker;
dave approves. At desktop width in English and at 390 px in zh-CN; any CSP violation or script error fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.web.conftest import CSP_WATCH, login, page_problems, shot

PDF = b"%PDF-1.4\n% a receipt\n"


@pytest.fixture(params=[("en", 1280), ("zh-CN", 390)], ids=["desktop-en", "phone-zh"])
def journey_page(request, browser, live_server: str) -> Iterator:  # noqa: ANN001
    locale, width = request.param
    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 860}, locale=locale,
                                  extra_http_headers={"Accept-Language": locale})
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_WATCH)
    pg = context.new_page()
    pg.problems = []
    pg.on("console", lambda msg: pg.problems.append(f"{pg.url}: {msg.text}")
          if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
    pg.on("pageerror", lambda err: pg.problems.append(f"{pg.url}: {err}"))
    pg.journey = (locale, width)
    yield pg
    context.close()
    assert not pg.problems, pg.problems


def _switch_user(pg) -> None:  # noqa: ANN001
    """Log out (on a phone the header's logout sits behind the menu button: open it first)."""
    toggle = pg.locator("label.nav-button")
    if toggle.is_visible():
        toggle.click()
    pg.click("form[action='/logout'] button")
    pg.wait_for_url("**/login")


def _no_sideways_scroll(pg, width: int) -> None:  # noqa: ANN001
    pg.wait_for_load_state("load")  # measured before the stylesheet applies, a page is wider than it is
    scroll = pg.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width + 10, f"{pg.url} scrolls sideways ({scroll}px at {width}px)"


def test_expense_with_receipt_total_and_person_picker_transfer(journey_page, api, crm, tmp_path) -> None:  # noqa: ANN001
    pg = journey_page
    locale, width = pg.journey
    receipt = tmp_path / "taxi.pdf"
    receipt.write_bytes(PDF)
    login(pg, "alice")
    pg.goto("/start/customer_visit")  # a record picker: search by name, the id is stored
    pg.fill("input.record-search", "acm")
    pg.locator(".picker-option", has_text="Acme Robotics").click()
    assert pg.locator("input[type=hidden][name='v:customer_id']").input_value() == str(crm["mine"]["id"])
    with pg.expect_response(lambda r: "/pick/crm.customer?q=bobcat" in r.url) as answer:
        pg.fill("input.record-search", "bobcat")  # bob's customer is not offered to alice
    assert answer.value.json() == []
    pg.wait_for_function("() => document.querySelector('.picker-results').hidden")
    pg.goto("/start/expense_claim")
    pg.select_option("select[name='v:items/0/category']", "travel")
    pg.fill("input[name='v:items/0/amount']", "1000.5")
    pg.fill("input[name='v:items/0/date']", "2026-11-03")
    pg.fill("textarea[name='v:items/0/description']", "taxi")
    pg.set_input_files("input[name='file:items/0/receipt']", str(receipt))
    pg.click("fieldset.rows .add-row")
    pg.fill("input[name='v:items/1/amount']", "20")
    total = pg.locator("output[data-sum=amount]")
    expected = "1,020.50"
    pg.wait_for_function("t => document.querySelector('output[data-sum=amount]').textContent === t", arg=expected)
    assert total.text_content() == expected
    pg.select_option("select[name='v:items/1/category']", "meals")
    pg.fill("input[name='v:items/1/date']", "2026-11-03")
    pg.fill("textarea[name='v:items/1/description']", "lunch")
    _no_sideways_scroll(pg, width)
    shot(pg, f"expense-form-{locale}-{width}")
    pg.click("#start-form button.primary")
    pg.wait_for_url("**/instances/*")
    _switch_user(pg)

    task_id = api.tasks("bob")[0]["id"]
    login(pg, "bob")
    pg.goto(f"/tasks/{task_id}")
    pg.wait_for_selector("#task-form")
    content = pg.content()
    assert "taxi.pdf" in content and "1,020.50" in content
    for word in ("by_category", "chain", "votes", "reviewers"):
        assert word not in content, word
    # reject with no reason is stopped in the page, before any dialog
    pg.click("button.reject")
    assert pg.url.endswith(f"/tasks/{task_id}")
    assert pg.evaluate("document.querySelector('[name=\"v:comment\"]').validationMessage") != ""
    box = pg.locator("form.action-transfer input.person-search")
    box.fill("dav")
    option = pg.locator("form.action-transfer .picker-option", has_text="dave")
    option.click()
    assert pg.locator("form.action-transfer input[type=hidden][name=to]").input_value() == "dave"
    _no_sideways_scroll(pg, width)
    shot(pg, f"task-page-{locale}-{width}")
    pg.click("form.action-transfer button[type=submit]")
    pg.wait_for_url("**/approvals")
    _switch_user(pg)
    assert api.tasks("dave")[0]["id"] == task_id

    login(pg, "dave")
    pg.goto(f"/tasks/{task_id}")
    pg.fill("textarea[name='v:comment']", "ok")
    pg.click("button.approve")
    pg.wait_for_url(re.compile(r".*/approvals$"))
    assert not [t for t in api.tasks("dave") if t["id"] == task_id]
    assert not page_problems(pg)
