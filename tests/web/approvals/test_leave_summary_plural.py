"""A leave's one-line summary counts its working days in good English - "1 working day", "0.5 working days",
"2 working days" (ngettext) - and reads "1 个工作日" in Chinese, which has one form for every number."""

from __future__ import annotations

import re

from tests.web.conftest import Web

LINE = re.compile(r'<tr data-instance="(\d+)".*?class="summary-line">([^<]*)<', re.S)


def test_working_days_are_singular_for_one_day_and_plural_otherwise(web: Web, api) -> None:  # noqa: ANN001
    ids = {}
    for days in (1, 0.5, 2):
        resp = api.start_leave("alice", days, leave_type="personal")
        assert resp.status_code == 201, resp.get_json()
        ids[days] = resp.get_json()["id"]
    web.login("alice")
    lines = dict(LINE.findall(web.get("/approvals?tab=mine").get_data(as_text=True)))
    assert lines[str(ids[1])].endswith(" · 1 working day"), lines[str(ids[1])]
    assert lines[str(ids[0.5])].endswith(" · 0.5 working days")
    assert lines[str(ids[2])].endswith(" · 2 working days")
    web.get("/lang/zh_CN")
    lines = dict(LINE.findall(web.get("/approvals?tab=mine").get_data(as_text=True)))
    assert lines[str(ids[1])].endswith(" · 1 个工作日") and lines[str(ids[2])].endswith(" · 2 个工作日")
    assert lines[str(ids[0.5])].endswith(" · 0.5 个工作日")
