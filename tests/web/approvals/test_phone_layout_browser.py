"""The approval centre and the task page on a phone (Debian's chromium, 390 px, English and Chinese): the four
tabs show whole, the first waiting task is on the first screen (the filters past the search are folded), and
"More actions" labels each person box with what it is for, its placeholder whole. On a desktop the filters show
at once. No Content-Security-Policy error, no sideways scrolling."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.web.conftest import CSP_WATCH, login, page_problems, shot


@pytest.fixture
def open_page(browser, live_server: str) -> Iterator:  # noqa: ANN001
    contexts = []

    def make(locale: str, width: int):  # noqa: ANN202
        context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 844},
                                      locale=locale, extra_http_headers={"Accept-Language": locale})
        context.set_default_timeout(15_000)
        context.add_init_script(CSP_WATCH)
        contexts.append(context)
        pg = context.new_page()
        pg.problems = []
        pg.on("pageerror", lambda err: pg.problems.append(str(err)))
        return pg

    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_on_a_phone_tabs_fit_the_first_task_shows_and_actions_are_labelled(open_page, api, locale: str) -> None:  # noqa: ANN001
    inst = api.start_leave("alice", 2).get_json()["id"]
    pg = open_page(locale, 390)
    login(pg, "bob")
    pg.goto("/approvals")
    pg.wait_for_load_state("load")
    tabs = pg.locator("main nav.tabs a")
    assert tabs.count() == 4
    for i in range(4):  # every tab whole on the screen: inside the viewport, its text not clipped
        box = tabs.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (i, box)
        assert tabs.nth(i).evaluate("a => a.scrollWidth <= a.clientWidth + 1"), tabs.nth(i).inner_text()
    row = pg.locator(f"tr[data-instance='{inst}']")
    box = row.bounding_box()
    assert box["y"] + box["height"] <= 844, f"the first task ends at {box['y'] + box['height']}px, past the screen"
    assert not pg.locator("#more-filters").evaluate("d => d.open")
    assert not pg.locator("select[name=status]").is_visible()
    pg.locator("#more-filters > summary").click()  # the filters are one tap away
    assert pg.locator("select[name=status]").is_visible()
    assert pg.evaluate("document.documentElement.scrollWidth") <= 400
    shot(pg, f"approval-centre-phone-{locale}")

    row.locator("a").first.click()
    pg.wait_for_url("**/tasks/*")
    pg.wait_for_load_state("load")
    forms = pg.locator("#more-actions form.inline-form")
    assert forms.count() >= 3
    titles = []
    for i in range(forms.count()):
        form = forms.nth(i)
        title = form.locator("label.action-title")
        assert title.count() == 1 and title.is_visible(), form.get_attribute("class")
        titles.append(title.inner_text().strip())
        box = form.locator("input.person-search, select").first
        if form.locator("input.person-search").count():
            box = form.locator("input.person-search").first
            # the whole placeholder fits in the box (measured in the box's own font)
            fits = box.evaluate("""b => {
                const c = document.createElement('canvas').getContext('2d');
                const s = getComputedStyle(b); c.font = s.font;
                const pad = parseFloat(s.paddingLeft) + parseFloat(s.paddingRight);
                return c.measureText(b.placeholder).width + pad <= b.clientWidth; }""")
            assert fits, (titles[-1], box.get_attribute("placeholder"))
    assert all(titles) and len(set(titles)) == len(titles), titles  # each box says what it is for
    assert pg.evaluate("document.documentElement.scrollWidth") <= 400
    shot(pg, f"task-more-actions-phone-{locale}")
    assert not page_problems(pg)


def test_on_a_desktop_the_filters_show_at_once(open_page, api) -> None:  # noqa: ANN001
    api.start_leave("alice", 2)
    pg = open_page("en", 1280)
    login(pg, "bob")
    pg.goto("/approvals")
    pg.wait_for_load_state("load")
    assert pg.locator("select[name=status]").is_visible() and pg.locator("input[name=start]").is_visible()
    assert not pg.locator("#more-filters > summary").is_visible()
    assert not page_problems(pg)
