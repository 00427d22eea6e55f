"""Form errors on the pages in the reader's language with the field's label; the API keeps English messages and
adds the failed keyword (`kind`, `limit`) so any client can word them."""

from __future__ import annotations

from tests.conftest import Api
from tests.web.conftest import LEAVE, Web


def _start(web: Web, **over: str) -> str:
    resp = web.post("/start/leave_request", {**LEAVE, **over}, csrf_from="/start/leave_request")
    assert resp.status_code == 422, resp.status_code
    return resp.get_data(as_text=True)


def test_start_form_errors_are_chinese_with_the_field_label(web: Web) -> None:
    web.login("alice")
    web.get("/lang/zh_CN")
    page = _start(web, **{"v:reason": ""})
    assert "请填写事由" in page and "is required" not in page
    page = _start(web, **{"v:reason": "x" * 2001})
    assert "事由太长（最多 2000 个字符）" in page
    page = _start(web, **{"v:leave_type": "holiday"})
    assert "假期类型必须是列出的选项之一" in page and "is not one of" not in page
    web.get("/lang/en")
    page = _start(web, **{"v:reason": ""})
    assert "Reason is required" in page


def test_number_typed_wrong_is_worded_by_the_form_page(web: Web) -> None:
    web.login("alice")
    web.get("/lang/zh_CN")
    resp = web.post("/start/expense_claim", {"v:items/0/category": "travel", "v:items/0/amount": "lots",
                                             "v:items/0/date": "2026-12-01", "v:items/0/description": "taxi",
                                             "v:items/__present": "1"},
                    csrf_from="/start/expense_claim")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "必须是数字" in page and "must be a number" not in page


def test_api_keeps_english_and_names_the_keyword(api: Api) -> None:
    resp = api.post("/api/v1/process-definitions/leave_request/start", "alice",
                    json={"variables": {"leave_type": "annual", "start_date": "2031-01-06",
                                        "end_date": "2031-01-07", "reason": "x" * 2001}})
    assert resp.status_code == 422 and resp.content_type.startswith("application/problem+json")
    errors = resp.get_json()["errors"]
    assert {"field": "reason", "kind": "maxLength", "limit": 2000} == {k: errors[0][k] for k in
                                                                        ("field", "kind", "limit")}
    assert "too long" in errors[0]["message"]
