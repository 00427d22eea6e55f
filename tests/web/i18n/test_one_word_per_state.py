"""One state, one word in zh-CN: a request in approval is 审批中 on the approval centre, the request page and
the admin console (never 进行中), a rejected one 已拒绝 there and in the applicant's notification, and distinct
states never share a word (an opportunity's Qualified stage is not an order's Confirmed status)."""

from __future__ import annotations

import re

from flask_babel import force_locale

from api.web.labels import VALUE_LABELS, label
from tests.conftest import Api
from tests.web.conftest import Web

SYNONYMS = [{"completed", "done"}]  # keys that are one state said two ways in English


def _text(page: str) -> str:
    return re.sub(r"<[^>]+>", " ", page)


def test_distinct_states_have_distinct_chinese_words(app) -> None:  # noqa: ANN001
    with app.test_request_context("/"), force_locale("zh_CN"):
        words: dict[str, set[str]] = {}
        for key in VALUE_LABELS:
            words.setdefault(label(key), set()).add(key)
        assert label("qualified") != label("confirmed")
    shared = {word: keys for word, keys in words.items() if len(keys) > 1 and keys not in SYNONYMS}
    assert shared == {}, shared


def test_a_notification_says_the_outcome_as_the_approval_centre(app) -> None:  # noqa: ANN001
    from api.web.notice_text import _outcome
    from api.web.outcome_words import word_of
    with app.test_request_context("/"), force_locale("zh_CN"):
        # the order flow ends "confirmed" or, given up after a rejection, "cancelled" (the order is cancelled, and
        # so is the request, not rejected): the notification says what the centre says for that outcome
        # (api.web.outcome_words.word_of)
        said = [_outcome(o, "sales_order_approval") for o in ("confirmed", "cancelled", "approved", "Rejected")]
        assert said == [word_of("approved", "confirmed", "sales_order_approval"), "已取消", "已通过", "已拒绝"]
        assert said[0] != "confirmed"  # a word, not the flow's raw value


def test_a_request_reads_the_same_in_every_place(web: Web, api: Api) -> None:
    running = api.start_leave("alice", 1).get_json()["id"]
    rejected = api.start_leave("alice", 1).get_json()["id"]
    [task] = api.tasks("bob", instance_id=rejected)
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob",
                    json={"variables": {"approved": False}, "comment": "no"}).status_code == 200
    web.login("alice")
    web.get("/lang/zh_CN")
    centre = _text(web.get("/approvals?tab=mine").get_data(as_text=True))
    request_page = _text(web.get(f"/instances/{running}").get_data(as_text=True))
    home = _text(web.get("/").get_data(as_text=True))
    for page in (centre, request_page, home):
        assert "审批中" in page and "进行中" not in page
    assert "已拒绝" in _text(web.get(f"/instances/{rejected}").get_data(as_text=True))
    notices = _text(web.get("/notifications").get_data(as_text=True))
    assert f"#{rejected} 已拒绝" in notices and "驳回" not in notices
    web.logout()
    web.login("admin")
    web.get("/lang/zh_CN")
    listing = web.get("/admin/instances").get_data(as_text=True)
    row = re.search(rf"/admin/instances/{running}\"(.*?)</tr>", listing, re.S)
    assert row and "审批中" in row.group(1) and "进行中" not in _text(listing)
    filters = web.get("/admin/instances?status=running").get_data(as_text=True)
    assert re.search(r'<option value="running"[^>]*>审批中</option>', filters)
    detail = _text(web.get(f"/admin/instances/{running}").get_data(as_text=True))
    assert "审批中" in detail and "进行中" not in detail
