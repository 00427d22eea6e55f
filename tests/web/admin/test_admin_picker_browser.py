"""Browser (Playwright, Debian chromium): the admin user form's manager and a group's members are picked with the
task page's people picker (search by name or department), the picked user names are what is saved, and a
successful create lands on a page that a reload does not post again (issue #15). Screenshots of the pages in English
and Chinese, desktop and phone, go to test-artifacts/."""

from __future__ import annotations

import pytest

from tests.web.conftest import login, shot

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def page(english_page):  # noqa: ANN001, ANN201
    """The English desktop page of tests.web.conftest."""
    return english_page


def test_manager_is_picked_by_name_and_the_created_page_survives_a_reload(page, api) -> None:  # noqa: ANN001
    login(page, "admin")
    page.goto("/admin/users/new")
    page.fill("#f-username", "zoe")
    box = page.locator("#f-manager")
    assert box.get_attribute("type") == "search" and box.get_attribute("name") is None  # the picker's search box
    box.fill("Bob")
    page.locator(".picker-option", has_text="(bob)").click()
    assert page.locator("input[type=hidden][name=manager]").input_value() == "bob"
    assert "(bob)" in box.input_value()
    shot(page, "admin-user-manager-picker-en-desktop")
    page.locator("#user-form button[type=submit]").click()
    page.wait_for_url("**/admin/users/*/password")
    assert page.locator("#one-time-password").is_visible()
    page.reload()  # no "resubmit the form?" and no second user: the answer page goes to the user's page
    page.wait_for_url("**/admin/users/*")
    assert page.locator("#one-time-password").count() == 0
    users = api.get("/api/v1/users", "admin", query_string={"q": "zoe"}).get_json()["items"]
    assert [u["username"] for u in users] == ["zoe"] and users[0]["manager"] == "bob"
    # an edit form shows the chosen manager by name
    page.wait_for_function("document.querySelector('#f-manager').value.indexOf('(bob)') >= 0")


def test_group_members_are_picked_and_removed(page, api) -> None:  # noqa: ANN001
    group = next(g for g in api.get("/api/v1/groups", "admin").get_json()["items"] if g["name"] == "finance")
    login(page, "admin")
    page.goto("/admin/org")
    form = page.locator(f"#group-{group['id']}")
    assert form.locator("input[name=members]").get_attribute("type") == "hidden"
    assert form.locator(".picked-people li").count() == len(group["members"])
    form.locator("input.person-search").fill("erin")
    form.locator(".picker-option", has_text="(erin)").click()
    first = group["members"][0]
    form.locator(".picked-people li", has_text=first).locator("button.remove-person").click()
    shot(page, "admin-group-members-picker-en-desktop")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/admin/org")
    after = next(g for g in api.get("/api/v1/groups", "admin").get_json()["items"] if g["name"] == "finance")
    assert sorted(after["members"]) == sorted([m for m in group["members"] if m != first] + ["erin"])


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_admin_forms_on_desktop_and_phone(page, lang: str) -> None:  # noqa: ANN001
    login(page, "admin")
    page.goto(f"/lang/{lang}")
    tag = "en" if lang == "en" else "zh"
    for width, name in ((None, "desktop"), (PHONE, "phone")):
        if width:
            page.set_viewport_size(width)
        page.goto("/admin/users/new")
        page.locator("#f-manager").focus()
        page.locator(".picker-option").first.wait_for()
        shot(page, f"admin-user-form-{tag}-{name}")
        page.goto("/admin/org")
        page.locator(".picked-people li").first.wait_for()
        shot(page, f"admin-org-{tag}-{name}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, overflow  # the page itself never scrolls sideways (tables scroll in .hscroll)
