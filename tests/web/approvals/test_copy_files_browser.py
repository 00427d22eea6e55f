"""Browser (Playwright, Debian chromium): copying a rejected expense claim lists its receipt by the file's own name
beside the receipt field, with a box to drop it (issue #15). Screenshots in English and Chinese, desktop and
phone, go to test-artifacts/."""

from __future__ import annotations

import pytest

from tests.web.approvals.test_resubmit_files import _rejected_claim
from tests.web.conftest import Web, login, shot

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_copy_lists_the_receipt_by_name_and_it_can_be_dropped(page, app, api, lang: str) -> None:  # noqa: ANN001
    web = Web(app)
    web.login("alice")
    inst = _rejected_claim(web, api, filename="taxi-receipt.pdf")
    login(page, "alice")
    page.goto(f"/lang/{lang}")
    page.goto(f"/instances/{inst}")
    page.locator("#resubmit").click()  # 重新提交: the rejected claim's own form, pre-filled
    page.wait_for_url(f"**/start/expense_claim?from={inst}")
    kept = page.locator(".file-kept").first
    assert "taxi-receipt.pdf" in kept.locator(".file-name").inner_text()
    tag = "en" if lang == "en" else "zh"
    shot(page, f"expense-copy-{tag}-desktop")
    drop = kept.locator("input[name=_drop_file]")
    drop.check()
    assert page.evaluate("getComputedStyle(document.querySelector('.file-kept .file-name')).textDecorationLine") \
        == "line-through"  # ticked: shown struck through until the form is sent
    page.set_viewport_size(PHONE)
    shot(page, f"expense-copy-{tag}-phone")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, overflow
