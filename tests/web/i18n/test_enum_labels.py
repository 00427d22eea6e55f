"""Enum options of the shipped forms read as words in English too (the form's `enumNames`, translated by the
flow's i18n file), never as raw keys such as `annual`, `am` or `travel`."""

from __future__ import annotations

import re

from tests.web.conftest import Web

_OPTION = re.compile(r'<option value="([^"]*)"[^>]*>([^<]*)</option>')


def _options(web: Web, path: str) -> dict[str, str]:
    resp = web.get(path)
    assert resp.status_code == 200, resp.status_code
    return dict(_OPTION.findall(resp.get_data(as_text=True)))


def test_leave_and_expense_options_have_english_and_chinese_labels(web: Web) -> None:
    web.login("alice")
    leave = _options(web, "/start/leave_request")
    assert leave["annual"] == "Annual leave" and leave["sick"] == "Sick leave"
    assert leave["am"] in ("Morning (whole day)", "Noon (half day)") and leave["pm"] != "pm"
    expense = _options(web, "/start/expense_claim")
    assert expense["travel"] == "Travel" and expense["entertainment"] == "Entertainment"
    web.get("/lang/zh_CN")
    leave = _options(web, "/start/leave_request")
    assert leave["annual"] == "年假" and leave["am"] in ("上午（全天）", "中午（半天）")
    assert _options(web, "/start/expense_claim")["office"] == "办公用品"
