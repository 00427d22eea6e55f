"""The shipped flows end to end over HTTP with the demo organisation: each writes the records it is about."""

from __future__ import annotations

import time

from sqlalchemy import select

from api.extensions import db
from tests.conftest import deploy_files


def _task(api, user: str, element_id: str, instance_id: int, candidate: bool = False) -> dict:  # noqa: ANN001
    tasks = api.tasks(user, **({"candidate": "me"} if candidate else {}))
    found = [t for t in tasks if t["element_id"] == element_id and t["instance_id"] == instance_id]
    assert found, (user, element_id, tasks)
    return found[0]


def _complete(api, user: str, task: dict, **variables) -> None:  # noqa: ANN001, ANN003
    resp = api.post(f"/api/v1/tasks/{task['id']}/complete", user, json={"variables": variables})
    assert resp.status_code == 200, resp.get_json()


def _instance(api, instance_id: int, user: str = "admin") -> dict:  # noqa: ANN001
    return api.get(f"/api/v1/process-instances/{instance_id}", user).get_json()


def _customer(api, owner: str = "alice", name: str = "Acme Trading") -> dict:  # noqa: ANN001
    resp = api.post("/api/v1/customers", owner, json={"name": name, "industry": "manufacturing",
                                                      "region": "east", "level": "A", "source": "referral",
                                                      "phone": "021-5555-0101"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_approved_leave_lands_in_attendance_calendar_and_hr_is_copied(api, app) -> None:  # noqa: ANN001
    inst = api.start_leave("alice", days=2, start_date="2026-12-07", end_date="2026-12-08").get_json()
    _complete(api, "bob", _task(api, "bob", "manager_approval", inst["id"]), approved=True)
    assert _instance(api, inst["id"])["variables"]["outcome"] == "approved"
    from oa.record_models import CalendarEvent, LeaveRecord
    with app.app_context():
        days = db.session.scalars(select(LeaveRecord).where(LeaveRecord.user == "alice")).all()
        assert sorted(str(d.date) for d in days) == ["2026-12-07", "2026-12-08"]
        assert {d.leave_type for d in days} == {"annual"}
        events = db.session.scalars(select(CalendarEvent).where(CalendarEvent.owner == "alice")).all()
        assert [e.kind for e in events] == ["leave", "leave"]  # one all-day entry per leave day
    assert api.get(f"/api/v1/process-instances/{inst['id']}", "erin").status_code == 200  # CC to HR
    [cc] = [n for n in api.get("/api/v1/notifications", "erin").get_json()["items"] if n["kind"] == "cc"]
    assert cc["title"] == "Approved leave: alice, 2026-12-07 to 2026-12-08"
    from tests.web.conftest import Web
    hr = Web(app)
    hr.login("erin")
    hr.get("/lang/zh_CN")
    inbox = hr.get("/notifications").get_data(as_text=True)  # the person by name, the days as zh pages write them
    assert "请假已批准：Alice (Sales Rep)，2026年12月7日 至 2026年12月8日" in inbox, inbox[-3000:]
    assert f'<a href="/instances/{inst["id"]}">请假已批准' in inbox  # a link to the request, like every notice


def _expense(api, items: list[dict]) -> dict:  # noqa: ANN001
    resp = api.post("/api/v1/process-definitions/expense_claim/start", "alice", json={"variables": {"items": items}})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_expense_chain_follows_the_decision_table(api, app) -> None:  # noqa: ANN001
    small = _expense(api, [{"category": "meals", "amount": 120.5, "date": "2026-11-20", "description": "client lunch"}])
    assert _instance(api, small["id"])["variables"]["chain"] == "manager"
    _complete(api, "bob", _task(api, "bob", "manager_approval", small["id"]), approved=True)
    pay = _task(api, "carol", "pay", small["id"], candidate=True)  # finance pays, no finance approval
    _complete(api, "carol", pay, payment_reference="PAY-1")
    final = _instance(api, small["id"])
    assert final["status"] == "completed" and final["variables"]["outcome"] == "paid"
    assert final["variables"]["total"] == 120.5

    big = _expense(api, [{"category": "travel", "amount": 9000, "date": "2026-11-02", "description": "flights"},
                         {"category": "training", "amount": 3500, "date": "2026-11-03", "description": "course"}])
    variables = _instance(api, big["id"])["variables"]
    assert variables["total"] == 12500 and variables["category"] == "travel"
    assert variables["chain"] == "manager,finance,general_manager"
    _complete(api, "bob", _task(api, "bob", "manager_approval", big["id"]), approved=True)
    _complete(api, "carol", _task(api, "carol", "finance_approval", big["id"], candidate=True), approved=True)
    _complete(api, "dave", _task(api, "dave", "gm_approval", big["id"], candidate=True), approved=True)
    with app.app_context():  # a finance system webhook is registered: payment notifies it
        from engine.models import Webhook, WebhookDelivery
        db.session.add(Webhook(url="http://127.0.0.1:9/finance", events=["expense.paid"], secret="s",
                               created_by="erp"))
        db.session.commit()
    _complete(api, "carol", _task(api, "carol", "pay", big["id"], candidate=True), payment_reference="PAY-2")
    assert _instance(api, big["id"])["variables"]["outcome"] == "paid"
    with app.app_context():
        delivery = db.session.scalars(select(WebhookDelivery)).one()
        assert delivery.event == "expense.paid" and delivery.payload["payload"]["total"] == 12500

    medium = _expense(api, [{"category": "entertainment", "amount": 800, "date": "2026-11-05", "description": "x"}])
    assert _instance(api, medium["id"])["variables"]["chain"] == "manager,finance"
    _complete(api, "bob", _task(api, "bob", "manager_approval", medium["id"]), approved=True)
    _complete(api, "carol", _task(api, "carol", "finance_approval", medium["id"], candidate=True), approved=False)
    assert _instance(api, medium["id"])["variables"]["outcome"] == "rejected"


def test_expense_form_rejects_bad_line_items(api) -> None:  # noqa: ANN001
    resp = api.post("/api/v1/process-definitions/expense_claim/start", "alice", json={"variables": {"items": [
        {"category": "travel", "amount": -5, "date": "2026-11-02", "description": "x"}]}})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "items/0/amount"


def test_expense_reminder_and_escalation_timers(api, app) -> None:  # noqa: ANN001
    """The shipped model's boundary timers, with its P1D / P3D shortened so the test can wait for them."""
    from pathlib import Path
    model = (Path(__file__).resolve().parents[2] / "processes" / "expense_claim.bpmn").read_text()
    reminder, escalation = '<bpmn:timeDuration>"P1D"', '<bpmn:timeDuration>"P3D"'
    assert model.count(reminder) == 1 and model.count(escalation) == 1
    # 1 s and 6 s: the reminder's check below holds unless the machine stalls for 5 s between the two
    fast = model.replace(reminder, '<bpmn:timeDuration>"PT1S"').replace(escalation, '<bpmn:timeDuration>"PT6S"')
    dmn = (Path(__file__).resolve().parents[2] / "processes" / "expense_approval_chain.dmn").read_bytes()
    assert deploy_files(api, "grace", {"expense_claim.bpmn": fast.encode(),
                                       "expense_approval_chain.dmn": dmn}).status_code == 201
    inst = _expense(api, [{"category": "office", "amount": 50, "date": "2026-11-20", "description": "paper"}])
    engine = app.extensions["oaflow_engine"]

    def fire_until(condition, what: str) -> None:  # noqa: ANN001
        deadline = time.monotonic() + 60
        while True:
            with app.app_context():
                engine.fire_due_timers(db.session)
            if condition():
                return
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.2)

    def reminders() -> list:
        return [n for n in api.get("/api/v1/notifications", "bob").get_json()["items"] if "Reminder" in n["title"]]

    fire_until(lambda: reminders(), "the reminder")
    assert len(reminders()) == 1  # non-interrupting: bob still has the task
    assert [t["element_id"] for t in api.tasks("bob", assignee="me")] == ["manager_approval"]
    fire_until(lambda: api.tasks("bob") == [], "the escalation")  # interrupting: escalated to bob's manager
    assert len(reminders()) == 1
    escalated = _task(api, "dave", "escalated_approval", inst["id"])
    _complete(api, "dave", escalated, approved=True)
    _complete(api, "carol", _task(api, "carol", "pay", inst["id"], candidate=True), payment_reference="PAY-9")
    assert _instance(api, inst["id"])["variables"]["outcome"] == "paid"


def _opportunity(api, customer_id: int, amount: float = 50000) -> dict:  # noqa: ANN001
    resp = api.post("/api/v1/opportunities", "alice", json={"customer_id": customer_id, "name": "ERP rollout",
                                                           "stage": "negotiation", "amount": amount,
                                                           "expected_close_date": "2026-12-31"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _start_contract(api, opportunity: dict, amount: float) -> dict:  # noqa: ANN001
    resp = api.post("/api/v1/process-definitions/contract_approval/start", "alice", json={
        "business_key": f"opportunity:{opportunity['id']}",
        "variables": {"opportunity_id": opportunity["id"], "title": "ERP rollout contract", "amount": amount}})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_contract_approval_countersign_then_won(api) -> None:  # noqa: ANN001
    opp = _opportunity(api, _customer(api)["id"])
    inst = _start_contract(api, opp, 50000)
    assert inst["business_key"] == f"opportunity:{opp['id']}"
    _complete(api, "bob", _task(api, "bob", "sales_head_approval", inst["id"]), approved=True)
    # 会签: legal (frank) and finance (carol) each get their own task at once
    frank = _task(api, "frank", "legal_finance_review", inst["id"])
    carol = _task(api, "carol", "legal_finance_review", inst["id"])
    _complete(api, "frank", frank, approved=True)
    assert _instance(api, inst["id"])["active_element_ids"] == ["legal_finance_review"]
    _complete(api, "carol", carol, approved=True)
    final = _instance(api, inst["id"])
    assert final["status"] == "completed" and final["variables"]["outcome"] == "approved"
    won = api.get(f"/api/v1/opportunities/{opp['id']}", "alice").get_json()
    assert won["status"] == "won" and won["close_reason"] == f"approved by contract approval #{inst['id']}"
    from tests.web.conftest import Web
    web = Web(api.app)
    web.login("alice")
    web.get("/lang/zh_CN")
    page = web.get(f"/opportunities/{opp['id']}").get_data(as_text=True)
    assert f"经合同审批 #{inst['id']} 通过" in page and "approved by contract approval" not in page
    contracts = api.get("/api/v1/contracts", "alice").get_json()["items"]
    assert [c["status"] for c in contracts if c.get("opportunity_id") == opp["id"]] == ["active"]


def test_contract_rejection_loops_back_and_large_amounts_need_the_gm(api) -> None:  # noqa: ANN001
    opp = _opportunity(api, _customer(api, name="Big Buyer Ltd")["id"], amount=250000)
    inst = _start_contract(api, opp, 250000)
    _complete(api, "bob", _task(api, "bob", "sales_head_approval", inst["id"]), approved=True)
    _complete(api, "frank", _task(api, "frank", "legal_finance_review", inst["id"]), approved=False,
              comment="liability clause")
    # one rejection ends the countersign: carol's review is withdrawn, alice revises
    assert api.tasks("carol") == []
    _complete(api, "alice", _task(api, "alice", "revise", inst["id"]), resubmit=True, amount=240000)
    assert _instance(api, inst["id"])["variables"]["round"] == 2
    _complete(api, "bob", _task(api, "bob", "sales_head_approval", inst["id"]), approved=True)
    _complete(api, "frank", _task(api, "frank", "legal_finance_review", inst["id"]), approved=True)
    _complete(api, "carol", _task(api, "carol", "legal_finance_review", inst["id"]), approved=True)
    _complete(api, "dave", _task(api, "dave", "gm_approval", inst["id"], candidate=True), approved=True)
    final = _instance(api, inst["id"])
    assert final["variables"]["outcome"] == "approved" and final["variables"]["amount"] == 240000
    history = api.get(f"/api/v1/process-instances/{inst['id']}/history", "alice").get_json()["items"]
    assert [h["element_id"] for h in history if h["type"] == "task_completed"].count("sales_head_approval") == 2


def test_customer_visit_plan_calendar_and_outcome_follow_up(api, app) -> None:  # noqa: ANN001
    customer = _customer(api)
    resp = api.post("/api/v1/process-definitions/customer_visit/start", "alice", json={"variables": {
        "customer_id": customer["id"], "visit_date": "2026-11-20", "purpose": "quarterly review"}})
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()
    _complete(api, "bob", _task(api, "bob", "manager_approval", inst["id"]), approved=True)
    from crm.models import FollowUp, VisitPlan
    from oa.record_models import CalendarEvent
    with app.app_context():
        plans = db.session.scalars(select(VisitPlan).where(VisitPlan.customer_id == customer["id"])).all()
        assert [str(p.visit_date) for p in plans] == ["2026-11-20"]
        assert [e.kind for e in db.session.scalars(select(CalendarEvent).where(CalendarEvent.owner == "alice"))] \
            == ["visit"]
        app.extensions["oaflow_engine"].fire_due_timers(db.session)  # the visit day is over
    outcome = _task(api, "alice", "record_outcome", inst["id"])
    _complete(api, "alice", outcome, summary="Signed off the Q4 plan", next_follow_up_date="2027-01-10")
    assert _instance(api, inst["id"])["variables"]["outcome"] == "visited"
    with app.app_context():
        follow_ups = db.session.scalars(select(FollowUp).where(FollowUp.customer_id == customer["id"])).all()
        assert [(f.type, f.content) for f in follow_ups] == [("visit", "Signed off the Q4 plan")]


def test_high_priority_ticket_starts_escalation(api, app) -> None:  # noqa: ANN001
    customer = _customer(api)
    resp = api.post("/api/v1/tickets", "alice", json={"customer_id": customer["id"], "title": "Line down",
                                                      "priority": "high"})
    assert resp.status_code == 201, resp.get_json()
    ticket = resp.get_json()
    listed = api.get("/api/v1/process-instances", "admin", query_string={"business_key": f"ticket:{ticket['id']}"})
    assert listed.get_json()["total"] == 1
    inst_id = listed.get_json()["items"][0]["id"]
    _complete(api, "dave", _task(api, "dave", "triage", inst_id, candidate=True), department="finance")
    _complete(api, "carol", _task(api, "carol", "resolve", inst_id, candidate=True), resolution="Reset the line")
    _complete(api, "alice", _task(api, "alice", "confirm", inst_id), customer_satisfied=True, satisfaction=5)
    assert _instance(api, inst_id)["variables"]["outcome"] == "resolved"
    closed = api.get(f"/api/v1/tickets/{ticket['id']}", "alice").get_json()
    assert closed["outcome"] == "Reset the line"
    low = api.post("/api/v1/tickets", "alice", json={"customer_id": customer["id"], "title": "Question",
                                                     "priority": "low"}).get_json()
    assert api.get("/api/v1/process-instances", "admin",
                   query_string={"business_key": f"ticket:{low['id']}"}).get_json()["total"] == 0
    time.sleep(0)


def _signoff(api, mode: str, signers: list[str], **extra) -> int:  # noqa: ANN001, ANN003
    resp = api.post("/api/v1/process-definitions/policy_signoff/start", "grace", json={"variables": {
        "title": "Travel policy 2027", "signers": signers, "mode": mode, **extra}})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def _open(api, inst_id: int) -> list[dict]:  # noqa: ANN001
    return _instance(api, inst_id)["active_tasks"]


def test_multi_approver_all_any_sequential_and_ratio(api) -> None:  # noqa: ANN001
    # 会签: everyone must approve; one rejection ends it
    inst = _signoff(api, "all", ["bob", "carol", "frank"])
    assert sorted(t["assignee"] for t in _open(api, inst)) == ["bob", "carol", "frank"]
    _complete(api, "bob", _task(api, "bob", "sign_together", inst), approved=True)
    _complete(api, "carol", _task(api, "carol", "sign_together", inst), approved=False)
    assert _instance(api, inst)["variables"]["outcome"] == "rejected" and api.tasks("frank") == []
    # 或签: the first approval is enough
    inst = _signoff(api, "any", ["bob", "carol"])
    _complete(api, "carol", _task(api, "carol", "sign_together", inst), approved=True)
    final = _instance(api, inst)
    assert final["status"] == "completed" and final["variables"]["outcome"] == "approved" and api.tasks("bob") == []
    # 依次: one after another, in the given order
    inst = _signoff(api, "sequential", ["frank", "carol"])
    assert [t["assignee"] for t in _open(api, inst)] == ["frank"]
    _complete(api, "frank", _task(api, "frank", "sign_in_order", inst), approved=True)
    assert [t["assignee"] for t in _open(api, inst)] == ["carol"]
    _complete(api, "carol", _task(api, "carol", "sign_in_order", inst), approved=True)
    assert _instance(api, inst)["variables"]["outcome"] == "approved"
    # pass ratio: 2 of 3 approvals pass a 0.6 ratio
    inst = _signoff(api, "ratio", ["bob", "carol", "frank"], pass_ratio=0.6)
    _complete(api, "bob", _task(api, "bob", "sign_together", inst), approved=True)
    _complete(api, "carol", _task(api, "carol", "sign_together", inst), approved=False)
    _complete(api, "frank", _task(api, "frank", "sign_together", inst), approved=True)
    assert _instance(api, inst)["variables"]["outcome"] == "approved"
    inst = _signoff(api, "ratio", ["bob", "carol", "frank"], pass_ratio=0.9)
    for user in ("bob", "carol", "frank"):
        _complete(api, user, _task(api, user, "sign_together", inst), approved=user != "carol")
    assert _instance(api, inst)["variables"]["outcome"] == "rejected"


def test_a_service_task_that_refuses_its_data_is_an_incident(api, app) -> None:  # noqa: ANN001
    customer = _customer(api)
    resp = api.post("/api/v1/process-definitions/customer_visit/start", "alice", json={"variables": {
        "customer_id": customer["id"], "visit_date": "2026-11-20", "purpose": "a customer she will lose"}})
    inst = resp.get_json()
    from crm.models import Customer
    with app.app_context():  # transferred away while the approval waits: the initiator may no longer use it
        db.session.get(Customer, customer["id"]).owner = "erin"
        db.session.commit()
    approve = api.post(f"/api/v1/tasks/{_task(api, 'bob', 'manager_approval', inst['id'])['id']}/complete", "bob",
                       json={"variables": {"approved": True}})
    assert approve.status_code == 200, approve.get_json()  # bob's approval stands
    final = _instance(api, inst["id"])
    assert final["status"] == "error" and final["error"]["element_id"] == "plan_visit"
    assert "crm.create_visit_plan" in final["error"]["message"]
    from crm.models import VisitPlan
    with app.app_context():
        assert db.session.scalars(select(VisitPlan)).all() == []  # the failed operation left nothing behind
