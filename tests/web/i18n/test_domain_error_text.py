"""Domain and marshmallow messages on zh-CN pages are Chinese (api.web.common.error_text): the leave form's
working-day and overlap errors, a negative opportunity amount, a payment over the balance, a refused webhook
host and a 404 page. The API keeps saying them in English, and so do the English pages."""

from __future__ import annotations

import html as htmllib
import re
from datetime import date

from api.extensions import db
from oa.record_models import LeaveRecord
from tests.conftest import Api
from tests.web.conftest import LEAVE, Web

_ALERTS = re.compile(r'<(?:span|p)[^>]*(?:role="alert"|role="status")[^>]*>(.*?)</(?:span|p)>', re.S)
_ERROR_PAGE = re.compile(r'<section class="card error-page">(.*?)</section>', re.S)


_TERMS = {"Webhook"}  # product terms the Chinese text keeps


def _alerts(page: str) -> list[str]:
    found = _ALERTS.findall(page) + _ERROR_PAGE.findall(page)
    return [htmllib.unescape(re.sub(r"<[^>]+>", " ", text)).strip() for text in found if text.strip()]


def _english_words(texts: list[str]) -> list[str]:
    """ASCII words of three letters or more (host names and numbers are data, not words)."""
    words = []
    for text in texts:
        text = re.sub(r"“[^”]*”|'[^']*'|\b\d[\d.:,-]*\b", " ", text)
        words += [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in _TERMS]
    return words


def _zh(web: Web, user: str) -> None:
    web.login(user)
    web.get("/lang/zh_CN")


def _start_leave(web: Web, **over: str) -> str:
    resp = web.post("/start/leave_request", {**LEAVE, **over}, csrf_from="/start/leave_request")
    assert resp.status_code == 422, resp.status_code
    return resp.get_data(as_text=True)


def test_leave_errors_are_chinese_with_labels_and_dates(web: Web, api: Api) -> None:
    _zh(web, "alice")
    weekend = _alerts(_start_leave(web, **{"v:start_date": "2031-01-04", "v:end_date": "2031-01-05"}))
    assert any("开始日期与结束日期之间没有工作日" in a for a in weekend), weekend  # no stray spaces
    assert not _english_words(weekend), weekend
    backwards = _alerts(_start_leave(web, **{"v:start_date": "2031-01-08", "v:end_date": "2031-01-06"}))
    assert any("不能早于" in a for a in backwards) and not _english_words(backwards), backwards
    live = web.get("/leave-days?start_date=2031-01-08&end_date=2031-01-06")  # the form's live working-days box
    assert live.status_code == 422 and live.get_json()["errors"][0]["message"] == "不能早于开始日期"
    # a pending request, then an approved day: each overlap is said in Chinese, the day in the reader's format
    first = api.start_leave("alice", start_date="2031-02-03", end_date="2031-02-04")
    assert first.status_code == 201, first.get_json()
    pending = _alerts(_start_leave(web, **{"v:start_date": "2031-02-04", "v:end_date": "2031-02-04"}))
    assert any("审批中的请假申请" in a for a in pending) and not _english_words(pending), pending
    with api.app.app_context():
        db.session.add(LeaveRecord(user="alice", date=date(2031, 3, 4), leave_type="annual", instance_id=None))
        db.session.commit()
    approved = _alerts(_start_leave(web, **{"v:start_date": "2031-03-04", "v:end_date": "2031-03-04"}))
    assert any("2031年3月4日已批准的请假重叠" in a.replace(" ", "") for a in approved), approved
    assert not _english_words(approved), approved
    web.get("/lang/en")  # English pages keep the domain's words
    assert any("no working day between" in a for a in _alerts(
        _start_leave(web, **{"v:start_date": "2031-01-04", "v:end_date": "2031-01-05"})))
    api_resp = api.post("/api/v1/process-definitions/leave_request/start", "alice", json={"variables": {
        "leave_type": "annual", "start_date": "2031-01-04", "end_date": "2031-01-05", "reason": "x"}})
    assert api_resp.status_code == 422 and "no working day" in api_resp.get_json()["errors"][0]["message"]


def test_marshmallow_range_on_a_crm_form_is_chinese(web: Web, crm: dict) -> None:
    _zh(web, "alice")
    resp = web.post("/opportunities/new", {"customer_id": str(crm["mine"]["id"]), "name": "Gripper",
                                           "stage": "qualified", "amount": "-5"})
    assert resp.status_code == 422
    alerts = _alerts(resp.get_data(as_text=True))
    assert any("之间" in a or "不能小于" in a for a in alerts) and not _english_words(alerts), alerts


def test_payment_over_the_balance_is_chinese(web: Web, crm: dict, api: Api) -> None:
    won = api.post(f"/api/v1/opportunities/{crm['opp']['id']}/win", "alice", json={"reason": "signed"})
    assert won.status_code == 200, won.get_json()
    kid = won.get_json()["contract"]["id"]
    _zh(web, "carol")  # finance records payments
    resp = web.post(f"/contracts/{kid}/payments", {"amount": "999999", "paid_on": "2026-12-01"})
    assert resp.status_code == 422, resp.status_code
    alerts = _alerts(resp.get_data(as_text=True))
    assert any("未收金额" in a for a in alerts) and not _english_words(alerts), alerts


def test_refused_webhook_host_is_chinese(web: Web, app, monkeypatch) -> None:  # noqa: ANN001
    import dataclasses
    settings = app.config["OAFLOW_SETTINGS"]
    monkeypatch.setitem(app.config, "OAFLOW_SETTINGS", dataclasses.replace(settings, webhook_allow_private=False))
    _zh(web, "admin")
    resp = web.post("/admin/webhooks", {"url": "http://10.0.0.5/hook", "events": "instance.completed"},
                    csrf_from="/admin/webhooks")
    assert resp.status_code == 422, resp.status_code
    alerts = _alerts(resp.get_data(as_text=True))
    assert any("10.0.0.5" in a and "内网" in a for a in alerts) and not _english_words(alerts), alerts


def test_not_found_pages_are_generic_in_chinese(web: Web) -> None:
    _zh(web, "alice")
    resp = web.get("/customers/999999")
    assert resp.status_code == 404
    page = resp.get_data(as_text=True)
    assert "找不到该记录" in page and "no customer" not in page
    web.get("/lang/en")
    assert "no customer 999999" in web.get("/customers/999999").get_data(as_text=True)


def test_an_invalid_query_page_is_chinese(web: Web) -> None:
    _zh(web, "alice")
    resp = web.get("/customers?pool=public")
    assert resp.status_code == 422
    alerts = _alerts(resp.get_data(as_text=True))
    # the argument's name (`pool`) is what the address says, shown as code
    assert any("部分查询参数无效" in a for a in alerts) and _english_words(alerts) == ["pool"], alerts
    web.get("/lang/en")
    assert "some query arguments are invalid" in web.get("/customers?pool=public").get_data(as_text=True)


def test_a_hostile_message_is_escaped_and_left_alone(app) -> None:  # noqa: ANN001
    from api.web.common.error_text import error_text
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        from flask import session
        session["lang"] = "zh_CN"
        assert error_text("x" * 5000) == "x" * 5000  # huge input: shown as it is, never run through patterns
        assert error_text("must not be before <script>") == "must not be before <script>"  # no \w match
        said = error_text("host '<b>x</b>' does not resolve")
        assert "<b>x</b>" in said and "无法解析主机" in said  # plain text: the template escapes it


# ------------------------------------------------------------------ messages the domain raises with their key
def test_pool_and_owner_refusals_are_chinese(web: Web, crm: dict, api: Api) -> None:
    acme, bobcat = crm["mine"]["id"], crm["other"]["id"]
    assert api.post(f"/api/v1/customers/{bobcat}/release", "bob", json={}).status_code == 200
    assert api.client.put("/api/v1/crm/settings", headers=api.headers("admin"), json={"claim_cap": 1}).status_code \
        == 200
    _zh(web, "alice")  # she owns Acme: at the cap of one
    over = web.post(f"/pool/{bobcat}/claim")
    assert over.status_code == 409
    alerts = _alerts(over.get_data(as_text=True))
    assert any("你已负责 1 个客户" in a for a in alerts) and not _english_words(alerts), alerts
    foreign = web.post(f"/customers/{acme}/transfer", {"to": "carol"})  # finance: not a sales rep
    assert foreign.status_code == 422
    alerts = _alerts(foreign.get_data(as_text=True))
    assert any("不是在职的销售人员" in a for a in alerts) and not _english_words(alerts), alerts
    assert web.post(f"/customers/{acme}/release", {"reason": "moving"}).status_code == 302
    twice = web.post(f"/customers/{acme}/release", {"reason": "again"})
    assert twice.status_code == 409
    alerts = _alerts(twice.get_data(as_text=True))
    assert any(f"客户 {acme} 已在公海中" in a for a in alerts) and not _english_words(alerts), alerts
    web.logout()
    assert api.post(f"/api/v1/customers/{acme}/claim", "alice").status_code == 200
    _zh(web, "bob")  # alice's manager sees her customer: claimed already
    owned = web.post(f"/pool/{acme}/claim")
    assert owned.status_code == 409
    alerts = _alerts(owned.get_data(as_text=True))
    assert any(f"客户 {acme} 已有负责人" in a for a in alerts) and not _english_words(alerts), alerts
    web.get("/lang/en")  # English pages and the API keep the domain's words
    assert "is already owned" in web.post(f"/pool/{acme}/claim").get_data(as_text=True)
    api_resp = api.post(f"/api/v1/customers/{acme}/claim", "bob")
    assert api_resp.status_code == 409 and api_resp.get_json()["detail"] == f"customer {acme} is already owned"


def test_a_plan_over_the_contract_amount_is_chinese(web: Web, crm: dict, api: Api) -> None:
    won = api.post(f"/api/v1/opportunities/{crm['opp']['id']}/win", "alice", json={"reason": "signed"})
    assert won.status_code == 200, won.get_json()
    kid = won.get_json()["contract"]["id"]
    _zh(web, "alice")
    resp = web.post(f"/contracts/{kid}/plans", {"due_date": "2027-01-10", "amount": "999999"},
                    csrf_from=f"/contracts/{kid}")
    assert resp.status_code == 422, resp.status_code
    alerts = _alerts(resp.get_data(as_text=True))
    assert any("最多还可计划" in a for a in alerts) and not _english_words(alerts), alerts
    api_resp = api.post("/api/v1/receivables", "alice", json={"contract_id": kid, "due_date": "2027-01-10",
                                                                "amount": "999999"})
    assert api_resp.status_code == 422 and "left to plan" in api_resp.get_json()["detail"]


def test_a_message_key_is_translated_with_its_parameters(app) -> None:  # noqa: ANN001
    from flask import session

    from api.web.common.error_text import error_text
    from store.messages import Message
    said = Message("{user} already owns customer {id}", user="bob", id=7)
    assert said == "bob already owns customer 7"  # the API's English
    with app.test_request_context("/"):
        session["lang"] = "zh_CN"
        assert error_text(said) == "Bob (Head of Sales) 已是客户 7 的负责人"  # the person by name
        assert error_text(Message("{field} must be a number", field="amount")) == "金额必须是数字"
        assert error_text(Message("order {number} is {status}", number="SO-1", status="confirmed")) == \
            "订单 SO-1 当前为“已确认”"  # a state key by its label
        hostile = Message("{user} cannot own customers", user="<b>x</b>")
        assert error_text(hostile) == "<b>x</b> 不能负责客户"  # plain text: the template escapes it
        # a reason inside a sentence is a Message too, translated with it
        refused = Message("the file is refused: {reason}", reason=Message("more than {n} cells", n=20000))
        assert refused == "the file is refused: more than 20000 cells"
        assert error_text(refused) == "文件被拒绝：超过 20000 个单元格"
        assert error_text(Message("at most {left} left to invoice", left="1,200.00")) == "最多还可开票 1,200.00"


def test_an_incident_message_is_chinese_with_its_reason(app) -> None:  # noqa: ANN001
    """An incident keeps the engine's English text; zh pages word the wrapper and a known reason inside it."""
    from flask import session

    from api.web.common.error_text import error_text
    stored = "service operation 'crm.order_decided' refused: order SO-2026-0006 is confirmed"
    with app.test_request_context("/"):
        session["lang"] = "zh_CN"
        assert error_text(stored) == "服务操作 crm.order_decided 被拒绝：订单 SO-2026-0006 当前为“已确认”"
        assert error_text(stored + ".") == "服务操作 crm.order_decided 被拒绝：订单 SO-2026-0006 当前为“已确认”"
        odd = "service operation 'crm.x' failed: ZeroDivisionError: division by zero"
        assert error_text(odd) == "服务操作 crm.x 失败：ZeroDivisionError: division by zero"  # unknown reason kept
    with app.test_request_context("/"):
        assert error_text(stored) == stored


def test_approval_refusals_are_chinese(web: Web, api: Api) -> None:
    """What the engine refuses on the task and request pages - the second of two approvers, a transfer to
    oneself, a withdrawal after an approver acted, an urge too soon - reads in Chinese, with no English word."""
    first = api.start_leave("alice", days=5).get_json()  # past 3 days a second approver follows bob
    [task] = [t for t in api.tasks("bob") if t["instance_id"] == first["id"]]
    _zh(web, "bob")
    page = f"/tasks/{task['id']}"
    to_self = web.post(f"{page}/transfer", {"to": "bob"}, csrf_from=page)
    said = _alerts(to_self.get_data(as_text=True))
    assert to_self.status_code == 422 and "不能是你自己" in said and not _english_words(said), said  # beside "to"
    csrf = web.csrf(page)  # bob has the page open; a colleague's click lands first (here: his own API call)
    done = api.post(f"/api/v1/tasks/{task['id']}/complete", "bob", json={"variables": {"approved": True}})
    assert done.status_code == 200
    late = web.client.post(f"{page}/complete", data={"csrf_token": csrf, "v:approved": "true"})
    said = _alerts(late.get_data(as_text=True))
    assert late.status_code == 409 and "此任务已是“已完成”状态" in said, said
    assert not _english_words(said), said

    _zh(web, "alice")
    withdraw = web.post(f"/requests/{first['id']}/withdraw", csrf_from="/requests")
    said = _alerts(withdraw.get_data(as_text=True))
    assert withdraw.status_code == 409 and any("已有审批人处理过此申请，不能再撤回" in a for a in said), said
    assert not _english_words(said), said
    second = api.start_leave("alice", start_date="2031-03-03", end_date="2031-03-04").get_json()
    [urged] = [t for t in api.tasks("bob") if t["instance_id"] == second["id"]]
    assert web.post(f"/instances/{second['id']}/urge", csrf_from="/requests").status_code == 302
    again = web.post(f"/instances/{second['id']}/urge", csrf_from="/requests")
    said = _alerts(again.get_data(as_text=True))
    assert again.status_code in (409, 429) and any("此申请刚催办过，请稍后再试" in a for a in said) \
        and not _english_words(said), \
        (urged, said)


def test_duplicate_customer_and_double_clock_in_are_chinese(web: Web, crm: dict, api: Api) -> None:
    """A customer that exists is named beside the field (with its owner's name, not "duplicate"); clocking in
    twice (two tabs, a double tap) and out without a shift say so in Chinese; the API keeps its English."""
    _zh(web, "alice")
    again = web.post("/customers/new", {"name": "Acme Robotics"}, csrf_from="/customers/new")
    said = _alerts(again.get_data(as_text=True))
    mine = crm["mine"]["id"]
    assert again.status_code == 409 and f"已存在：客户 #{mine} Acme Robotics，负责人 Alice (Sales Rep)" in said, said
    hidden = _alerts(web.post("/customers/new", {"name": "Bobcat Foods"}, csrf_from="/customers/new")
                     .get_data(as_text=True))  # bob's, outside her scope: told it exists, not whose
    assert "已存在（属于其他销售）" in hidden and "Bobcat" not in " ".join(hidden), hidden
    assert web.post("/attendance/clock-in", {}, csrf_from="/attendance").status_code == 302
    twice = web.post("/attendance/clock-in", {}, csrf_from="/attendance")
    assert twice.status_code == 409 and any("你已签到，请先签退" in a for a in _alerts(twice.get_data(as_text=True)))
    assert web.post("/attendance/clock-out", {}, csrf_from="/attendance").status_code == 302
    out = web.post("/attendance/clock-out", {}, csrf_from="/attendance")
    assert out.status_code == 409 and any("你还没有签到" in a for a in _alerts(out.get_data(as_text=True)))
    made = api.post("/api/v1/customers", "alice", json={"name": "Acme Robotics"})
    assert made.status_code == 409 and made.get_json()["errors"][0]["message"] == (
        f"already exists: customer #{mine} Acme Robotics, owned by alice")
