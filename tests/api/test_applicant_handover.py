"""No hand-over to the applicant: whichever way a task changes hands (transfer, delegate, add signer, return,
timer escalation, claim from a group queue), the applicant never gets to work a task of their own request."""

from __future__ import annotations

import time

from api.extensions import db
from tests.bpmn_samples import process
from tests.conftest import deploy_files

APPROVAL_FORM = """<bpmn:extensionElements><spiffworkflow:properties>
  <spiffworkflow:property name="formJsonSchemaFilename" value="approval.json" />
</spiffworkflow:properties></bpmn:extensionElements>"""


def _leave_task(api) -> dict:  # noqa: ANN001
    inst = api.start_leave("alice", days=1).get_json()
    return next(t for t in api.tasks("bob", assignee="me") if t["instance_id"] == inst["id"])


def _approve(api, task_id: str, user: str):  # noqa: ANN001, ANN202
    return api.post(f"/api/v1/tasks/{task_id}/complete", user, json={"variables": {"approved": True}})


def _refused(resp, field: str) -> None:  # noqa: ANN001
    assert resp.status_code == 422, resp.get_json()
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert resp.get_json()["errors"][0]["field"] == field


def _state(api, task_id: str, user: str = "bob") -> dict:  # noqa: ANN001
    return api.get(f"/api/v1/tasks/{task_id}", user).get_json()


def test_transfer_to_the_applicant_is_refused(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    _refused(api.post(f"/api/v1/tasks/{task['id']}/transfer", "bob", json={"to": "alice"}), "to")
    assert _state(api, task["id"])["assignee"] == "bob"
    assert _approve(api, task["id"], "alice").status_code in (403, 404)
    assert api.post(f"/api/v1/tasks/{task['id']}/transfer", "bob", json={"to": "dave"}).status_code == 200
    _refused(api.post(f"/api/v1/tasks/{task['id']}/transfer", "dave", json={"to": "alice"}), "to")


def test_delegate_to_the_applicant_is_refused(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    _refused(api.post(f"/api/v1/tasks/{task['id']}/delegate", "bob", json={"to": "alice"}), "to")
    assert _state(api, task["id"])["assignee"] == "bob"
    assert api.tasks("alice", assignee="me") == []


def test_the_applicant_cannot_be_added_as_a_signer(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    for position in ("before", "after"):
        _refused(api.post(f"/api/v1/tasks/{task['id']}/add-signer", "bob",
                          json={"user": "alice", "position": position}), "user")
    # a signer added after may not hand it on to the applicant either
    assert api.post(f"/api/v1/tasks/{task['id']}/add-signer", "bob",
                    json={"user": "dave", "position": "after"}).status_code == 200
    assert _approve(api, task["id"], "bob").status_code == 200
    assert _state(api, task["id"], "dave")["assignee"] == "dave"
    _refused(api.post(f"/api/v1/tasks/{task['id']}/transfer", "dave", json={"to": "alice"}), "to")


def _group_flow(key: str, group: str) -> bytes:
    """A manager approval (bob), then an approval from a group queue; the manager step may be returned to."""
    return process(key, f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="step1" name="Manager" camunda:assignee="bob">{APPROVAL_FORM}
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:userTask id="queue" name="From the queue" camunda:candidateGroups="{group}">{APPROVAL_FORM}
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="step1" />
  <bpmn:sequenceFlow id="f2" sourceRef="step1" targetRef="queue" />
  <bpmn:sequenceFlow id="f3" sourceRef="queue" targetRef="end" />""")


def test_a_group_member_cannot_claim_or_complete_her_own_request(api) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"q.bpmn": _group_flow("sales_queue", "sales")}).status_code == 201
    inst = api.post("/api/v1/process-definitions/sales_queue/start", "alice", json={}).get_json()
    step1 = api.tasks("bob", assignee="me")[0]
    assert _approve(api, step1["id"], "bob").status_code == 200
    queued = [t for t in api.tasks("bob", candidate="me") if t["instance_id"] == inst["id"]]
    assert [t["element_id"] for t in queued] == ["queue"]  # bob (sales) is offered it...
    assert api.tasks("alice", candidate="me") == [] and api.tasks("alice") == []  # ...alice (sales) is not
    task_id = queued[0]["id"]
    assert api.post(f"/api/v1/tasks/{task_id}/claim", "alice").status_code == 403
    assert _approve(api, task_id, "alice").status_code == 403
    batch = api.post("/api/v1/tasks/batch-complete", "alice", json={"task_ids": [task_id],
                                                                    "variables": {"approved": True}})
    assert batch.get_json()["results"][0]["status"] == 403
    notified = api.get("/api/v1/notifications", "alice").get_json()["items"]
    assert not any(n["kind"] == "task_assigned" for n in notified)
    # bob claims it, then sends the request back to the manager step: the re-created step is guarded too
    assert api.post(f"/api/v1/tasks/{task_id}/claim", "bob").status_code == 200
    _refused(api.post(f"/api/v1/tasks/{task_id}/transfer", "bob", json={"to": "alice"}), "to")
    assert api.post(f"/api/v1/tasks/{task_id}/return", "bob",
                    json={"target_element_id": "step1"}).status_code == 200
    again = api.tasks("bob", assignee="me")[0]
    assert again["element_id"] == "step1"
    _refused(api.post(f"/api/v1/tasks/{again['id']}/transfer", "bob", json={"to": "alice"}), "to")
    assert _approve(api, again["id"], "bob").status_code == 200
    final_id = [t for t in api.tasks("bob", candidate="me") if t["instance_id"] == inst["id"]][0]["id"]
    assert _approve(api, final_id, "alice").status_code == 403
    assert api.post(f"/api/v1/tasks/{final_id}/claim", "bob").status_code == 200
    assert _approve(api, final_id, "bob").status_code == 200
    assert api.get(f"/api/v1/process-instances/{inst['id']}", "alice").get_json()["status"] == "completed"


def test_the_only_member_of_the_queue_files_a_claim_nobody_left_rule(api) -> None:  # noqa: ANN001
    # carol is all of finance: her own claim's finance approval and payment go to the empty-approver (admin)
    claim = api.post("/api/v1/process-definitions/expense_claim/start", "carol", json={"variables": {"items": [
        {"category": "entertainment", "amount": 800, "date": "2026-11-05", "description": "client dinner"}]}})
    assert claim.status_code == 201
    inst_id = claim.get_json()["id"]
    manager = next(t for t in api.tasks("dave", assignee="me") if t["instance_id"] == inst_id)
    assert _approve(api, manager["id"], "dave").status_code == 200
    assert [t for t in api.tasks("carol") if t["instance_id"] == inst_id] == []
    finance = next(t for t in api.tasks("admin", assignee="me") if t["instance_id"] == inst_id)
    assert finance["element_id"] == "finance_approval"
    assert _approve(api, finance["id"], "carol").status_code in (403, 404)
    assert _approve(api, finance["id"], "admin").status_code == 200
    pay = next(t for t in api.tasks("admin", assignee="me") if t["instance_id"] == inst_id)
    assert pay["element_id"] == "pay" and [t for t in api.tasks("carol") if t["instance_id"] == inst_id] == []
    paid = api.post(f"/api/v1/tasks/{pay['id']}/complete", "carol",
                    json={"variables": {"payment_reference": "SELF"}})
    assert paid.status_code in (403, 404)


def test_a_timer_escalation_to_a_queue_skips_the_applicant(api, app) -> None:  # noqa: ANN001
    model = process("escalate_to_queue", f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="work" name="Manager" camunda:assignee="bob">{APPROVAL_FORM}
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:boundaryEvent id="too_late" attachedToRef="work" cancelActivity="true">
    <bpmn:outgoing>f3</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1S"</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:userTask id="escalated" name="Escalated" camunda:candidateGroups="sales">{APPROVAL_FORM}
    <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:endEvent id="end2"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
  <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />
  <bpmn:sequenceFlow id="f3" sourceRef="too_late" targetRef="escalated" />
  <bpmn:sequenceFlow id="f4" sourceRef="escalated" targetRef="end2" />""")
    assert deploy_files(api, "grace", {"esc.bpmn": model}).status_code == 201
    inst = api.post("/api/v1/process-definitions/escalate_to_queue/start", "alice", json={}).get_json()
    engine = app.extensions["oaflow_engine"]
    deadline = time.monotonic() + 30
    escalated: list[dict] = []
    while not escalated and time.monotonic() < deadline:  # wait for the timer to be due and fire
        with app.app_context():
            engine.fire_due_timers(db.session)
            db.session.remove()
        escalated = [t for t in api.tasks("bob", candidate="me") if t["element_id"] == "escalated"
                     and t["instance_id"] == inst["id"]]
        time.sleep(0.05)
    assert escalated, "the escalation timer never fired"
    assert api.tasks("alice", candidate="me") == []
    assert api.post(f"/api/v1/tasks/{escalated[0]['id']}/claim", "alice").status_code == 403


def test_the_last_resort_approver_s_own_request_is_not_stuck(api) -> None:  # noqa: ANN001
    # nobody is above the admin: the empty-approver rule gives the admin's own request back to the admin
    inst = api.start_leave("admin", days=1).get_json()
    [task] = [t for t in api.tasks("admin", assignee="me") if t["instance_id"] == inst["id"]]
    assert _approve(api, task["id"], "admin").status_code == 200
