"""A rejection's reason reaches the person who must act on it, in every flow: beside the rejection on the
request's timeline and the task page's history, and at the top of the rework task ("why the request came
back"), whether the approver typed it on a page or sent it through the API as the form's `comment` field."""

from __future__ import annotations

import re

from sqlalchemy import update

from tests.crm.sales_helpers import complete, order, product, submit, task
from tests.web.conftest import Web

REASON = "15% is above our discount policy <b>firm</b>"


def _sent_back(html: str) -> str:
    found = re.search(r'<section class="card sent-back" id="sent-back">(.*?)</section>', html, re.S)
    return found.group(1) if found else ""


def _rejected_order(api, crm: dict) -> int:  # noqa: ANN001
    """alice's order, approved by the sales head, rejected by finance through the API with the form's reason."""
    p = product(api, "RR-1", 30_000)
    o = order(api, "alice", crm["mine"]["id"], [{"product_id": p["id"], "quantity": 2, "discount": 15}])
    inst = submit(api, "alice", o["id"])["instance_id"]
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    complete(api, "carol", "finance_review", inst, approved=False, comment=REASON)
    return inst


def test_an_api_rejection_reason_is_on_the_timeline_and_the_rework_task(web: Web, api, crm) -> None:  # noqa: ANN001
    inst = _rejected_order(api, crm)
    history = api.get(f"/api/v1/process-instances/{inst}/history", "alice").get_json()["items"]
    rejection = next(e for e in history if e["type"] == "task_completed" and e["element_id"] == "finance_review")
    assert rejection["comment"] == REASON  # the form's reason is the completion's comment, as on the web
    web.login("alice")
    page = web.get(f"/instances/{inst}").get_data(as_text=True)
    timeline = page.split('id="timeline"', 1)[1]
    rejected = re.search(r'<li class="ev tl-bad">(.*?)</li>', timeline, re.S)
    assert rejected and "Finance review (credit check)" in rejected.group(1), timeline[:3000]
    assert "15% is above our discount policy &lt;b&gt;firm&lt;/b&gt;" in rejected.group(1)
    revise = task(api, "alice", "revise", inst)
    html = web.get(f"/tasks/{revise['id']}").get_data(as_text=True)
    card = _sent_back(html)
    assert "Rejected" in card and "Finance review (credit check)" in card and "Carol" in card, html[:4000]
    assert "15% is above our discount policy &lt;b&gt;firm&lt;/b&gt;" in card and "<b>firm" not in html
    # resubmitted: the next round's approver gets a plain task, without the old rejection on top
    assert api.post(f"/api/v1/tasks/{revise['id']}/complete", "alice",
                    json={"variables": {"resubmit": True}}).status_code == 200
    web.logout()
    web.login("bob")
    again = task(api, "bob", "sales_head_approval", inst)
    assert 'id="sent-back"' not in web.get(f"/tasks/{again['id']}").get_data(as_text=True)


def test_a_countersign_rejection_in_another_flow_comes_back_with_its_reason(web: Web, api, crm) -> None:  # noqa: ANN001
    start = api.post("/api/v1/process-definitions/contract_approval/start", "alice", json={
        "business_key": f"opportunity:{crm['opp']['id']}",
        "variables": {"opportunity_id": crm["opp"]["id"], "title": "Arm contract", "amount": 88000}})
    assert start.status_code == 201, start.get_json()
    inst = start.get_json()["id"]
    complete(api, "bob", "sales_head_approval", inst, approved=True)
    complete(api, "carol", "legal_finance_review", inst, approved=True)  # one voter approves, the other rejects
    legal = task(api, "frank", "legal_finance_review", inst)
    resp = api.post(f"/api/v1/tasks/{legal['id']}/complete", "frank",
                    json={"variables": {"approved": False}, "comment": "clause 7 is unlimited liability"})
    assert resp.status_code == 200, resp.get_json()
    revise = task(api, "alice", "revise", inst)
    assert revise is not None
    web.login("alice")
    card = _sent_back(web.get(f"/tasks/{revise['id']}").get_data(as_text=True))
    assert "clause 7 is unlimited liability" in card and "Frank" in card
    assert "Carol" not in card  # her approval is not a reason the request came back


def test_a_reason_recorded_only_in_the_form_data_still_shows(web: Web, api, app, crm) -> None:  # noqa: ANN001
    """History written before the engine copied the form's reason into the comment keeps it in its data only."""
    from api.extensions import db
    from engine.models import HistoryEvent
    inst = _rejected_order(api, crm)
    with app.app_context():
        db.session.execute(update(HistoryEvent).where(HistoryEvent.instance_id == inst,
                                                      HistoryEvent.type == "task_completed").values(comment=None))
        db.session.commit()
    web.login("alice")
    revise = task(api, "alice", "revise", inst)
    html = web.get(f"/tasks/{revise['id']}").get_data(as_text=True)
    assert "discount policy" in _sent_back(html)
    assert "discount policy" in web.get(f"/instances/{inst}").get_data(as_text=True).split('id="timeline"', 1)[1]


def test_an_ordinary_task_has_no_sent_back_notice(web: Web, api, crm) -> None:  # noqa: ANN001
    p = product(api, "RR-2", 100)
    o = order(api, "alice", crm["mine"]["id"], [{"product_id": p["id"], "quantity": 1}])
    inst = submit(api, "alice", o["id"])["instance_id"]
    web.login("bob")
    first = task(api, "bob", "sales_head_approval", inst)
    assert 'id="sent-back"' not in web.get(f"/tasks/{first['id']}").get_data(as_text=True)
