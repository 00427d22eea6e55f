"""Browser (Playwright, Debian chromium): the CC form is one person picker taking several people (the plain
comma list is the hidden no-JS fallback), and a picker lists the first people on focus before any typing."""

from __future__ import annotations

import pytest

from tests.web.conftest import login


@pytest.fixture
def page(english_page):  # noqa: ANN001, ANN201
    """The English desktop page of tests.web.conftest."""
    return english_page


def test_cc_picks_several_people_in_one_picker(page, api) -> None:  # noqa: ANN001
    inst = api.start_leave("alice", days=1).get_json()["id"]
    task_id = api.tasks("bob", assignee="me")[0]["id"]
    login(page, "bob")
    page.goto(f"/tasks/{task_id}")
    form = page.locator("form.action-cc")
    assert form.locator("input[name=users]").get_attribute("type") == "hidden"  # the fallback box is hidden
    assert form.locator("input.person-search").count() == 1
    form.locator("input.person-search").focus()  # nothing typed: the first people are listed
    form.locator(".picker-option").first.wait_for()
    assert 1 <= form.locator(".picker-option").count() <= 10
    assert form.locator(".picker-option", has_text="(erp)").count() == 0  # no service account
    form.locator("input.person-search").fill("dav")
    form.locator(".picker-option", has_text="(dave)").click()
    form.locator("input.person-search").fill("car")
    form.locator(".picker-option", has_text="(carol)").click()
    assert form.locator("input[name=users]").input_value() == "dave, carol"
    assert form.locator(".picked-people li").count() == 2
    form.locator(".picked-people li", has_text="Carol").locator("button.remove-person").click()
    assert form.locator("input[name=users]").input_value() == "dave"
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**/tasks/{task_id}")
    viewers = api.get(f"/api/v1/process-instances/{inst}", "dave")
    assert viewers.status_code == 200
    assert api.get(f"/api/v1/process-instances/{inst}", "carol").status_code == 404
