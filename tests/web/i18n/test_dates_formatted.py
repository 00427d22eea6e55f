"""Dates on the CRM pages are formatted for the reader (`|date`), never ISO text beside Chinese words."""

from __future__ import annotations

from api.web.formatting import format_date
from tests.web.conftest import Web


def test_expected_close_and_next_follow_up_read_as_chinese_dates(web: Web, crm: dict, api) -> None:  # noqa: ANN001
    cid = crm["mine"]["id"]
    made = api.post("/api/v1/follow-ups", "alice", json={"customer_id": cid, "type": "call", "content": "Again",
                                                          "next_follow_up_date": "2031-01-03"})
    assert made.status_code == 201, made.get_json()
    web.login("alice")
    web.get("/lang/zh_CN")
    opp = web.get(f"/opportunities/{crm['opp']['id']}").get_data(as_text=True)
    assert "2026年12月15日" in opp and "2026-12-15<" not in opp
    customer = web.get(f"/customers/{cid}").get_data(as_text=True)
    assert "2031年1月3日" in customer and "2026年12月15日" in customer and " 2031-01-03<" not in customer


def test_format_date_reads_iso_text_and_leaves_other_text(app) -> None:  # noqa: ANN001
    with app.test_request_context("/"):
        assert format_date("2026-12-03") == "Dec 3, 2026" and format_date(None) == "" and format_date("") == ""
        assert format_date("<b>soon</b>") == "<b>soon</b>"  # shown as text; the template escapes it
