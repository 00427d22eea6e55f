"""One word for one outcome everywhere: a request reads the same in my requests, the approval centre, its own
page, the task page, the admin console and the applicant's notification — a rejected order the rep gave up on
is "Cancelled", as the order itself is (never "Completed" + "Cancelled", nor "Rejected" beside a cancelled order),
a rejected leave request is "Rejected", a paid expense claim is 已付款 (paid out, not 回款)."""

from __future__ import annotations

import re

from tests.crm.sales_helpers import complete, order, product, submit
from tests.web.conftest import Web

ZH = {"Accept-Language": "zh-CN"}


def _badges(html: str, instance_id: int) -> list[str]:
    """The outcome words a list page shows in the row of the instance."""
    for row in re.findall(r"<tr\b.*?</tr>", html, re.S):
        if re.search(rf'(data-instance="{instance_id}"|/instances/{instance_id}"|>#?{instance_id}<)', row):
            return re.findall(r'<span class="badge[^"]*"(?: [^>]*)?>([^<]+)</span>', row)
    raise AssertionError(f"no row for {instance_id}")


def _notice(html: str, instance_id: int) -> str:
    found = re.search(rf"[^<>]*#{instance_id} [^<>]*", html)
    assert found, html[:3000]
    return found.group(0).strip()


def _given_up_order(api, crm: dict) -> int:  # noqa: ANN001
    p = product(api, "OW-1", 100)
    o = order(api, "alice", crm["mine"]["id"], [{"product_id": p["id"], "quantity": 1}])
    inst = submit(api, "alice", o["id"])["instance_id"]
    complete(api, "bob", "sales_head_approval", inst, approved=False, comment="duplicate of a phone order")
    complete(api, "alice", "revise", inst, resubmit=False)  # the rep gives up: the order is cancelled
    return inst


def test_an_order_given_up_reads_cancelled_on_every_page_and_in_the_notification(web: Web, api, crm) -> None:  # noqa: ANN001
    inst = _given_up_order(api, crm)
    web.login("alice")
    for headers, word in (({}, "Cancelled"), (ZH, "已取消")):
        assert _badges(web.get("/requests", headers=headers).get_data(as_text=True), inst) == [word]
        assert _badges(web.get("/approvals?tab=mine", headers=headers).get_data(as_text=True), inst) == [word]
        page = web.get(f"/instances/{inst}", headers=headers).get_data(as_text=True)
        assert re.search(rf'id="outcome" data-outcome="cancelled">{word}<', page), page[:2000]
        notice = _notice(web.get("/notifications", headers=headers).get_data(as_text=True), inst)
        assert notice.endswith(word), notice
    # the list filters by the same outcome
    assert _badges(web.get("/requests?status=cancelled").get_data(as_text=True), inst) == ["Cancelled"]
    for other in ("rejected", "approved"):
        assert f"/instances/{inst}\"" not in web.get(f"/requests?status={other}").get_data(as_text=True)
    assert web.get("/requests?status=completed").status_code == 422
    web.logout()
    web.login("admin")
    assert _badges(web.get("/admin/instances").get_data(as_text=True), inst) == ["Cancelled"]


def test_a_paid_expense_claim_reads_paid_not_collected(web: Web, api) -> None:  # noqa: ANN001
    resp = api.post("/api/v1/process-definitions/expense_claim/start", "alice", json={"variables": {"items": [
        {"category": "travel", "amount": 120, "date": "2026-11-20", "description": "train"}]}})
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()["id"]
    complete(api, "bob", "manager_approval", inst, approved=True)
    complete(api, "carol", "pay", inst, payment_reference="PAY-1")
    web.login("alice")
    for headers, word in (({}, "Paid out"), (ZH, "已付款")):
        assert _badges(web.get("/requests", headers=headers).get_data(as_text=True), inst) == [word]
        assert _badges(web.get("/approvals?tab=mine", headers=headers).get_data(as_text=True), inst) == [word]
        page = web.get(f"/instances/{inst}", headers=headers).get_data(as_text=True)
        assert re.search(rf'id="outcome" data-outcome="approved">{word}<', page), page[:2000]
        notice = _notice(web.get("/notifications", headers=headers).get_data(as_text=True), inst)
        assert notice.endswith(word) and "回款" not in notice, notice


def test_the_task_page_names_the_request_state_as_the_request_page_does(web: Web, api, crm) -> None:  # noqa: ANN001
    p = product(api, "OW-2", 100)
    o = order(api, "alice", crm["mine"]["id"], [{"product_id": p["id"], "quantity": 1}])
    inst = submit(api, "alice", o["id"])["instance_id"]
    web.login("bob")
    task_id = next(t["id"] for t in api.tasks("bob") if t["instance_id"] == inst)
    for headers in ({}, ZH):
        task_page = web.get(f"/tasks/{task_id}", headers=headers).get_data(as_text=True)
        request_page = web.get(f"/instances/{inst}", headers=headers).get_data(as_text=True)
        said = re.search(r'id="request-outcome" data-outcome="running">([^<]+)<', task_page)
        assert said and f'id="outcome" data-outcome="running">{said.group(1)}<' in request_page
