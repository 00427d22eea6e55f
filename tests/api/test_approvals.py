"""Approver actions (转交, 委派, 加签, 退回, 抄送, 催办, batch, 撤回) and approver rules, over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from sqlalchemy import select

from api.extensions import db
from engine import saving
from tests.bpmn_samples import process
from tests.conftest import deploy_files

APPROVAL_FORM = """<bpmn:extensionElements><spiffworkflow:properties>
  <spiffworkflow:property name="formJsonSchemaFilename" value="approval.json" />
</spiffworkflow:properties></bpmn:extensionElements>"""


def _leave_task(api, days: float = 1, user: str = "alice") -> dict:  # noqa: ANN001
    inst = api.start_leave(user, days=days).get_json()
    return next(t for t in api.tasks("bob", assignee="me") if t["instance_id"] == inst["id"])


def _approve(api, task: dict, user: str, approved: bool = True):  # noqa: ANN001, ANN202
    return api.post(f"/api/v1/tasks/{task['id']}/complete", user, json={"variables": {"approved": approved}})


def _history(api, instance_id: int, user: str = "alice") -> list[dict]:  # noqa: ANN001
    return api.get(f"/api/v1/process-instances/{instance_id}/history", user).get_json()["items"]


def _notifications(api, user: str) -> list[dict]:  # noqa: ANN001
    resp = api.get("/api/v1/notifications", user)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["items"]


def test_transfer(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    url = f"/api/v1/tasks/{task['id']}/transfer"
    assert api.post(url, "carol", json={"to": "dave"}).status_code == 404
    assert api.post(url, "alice", json={"to": "dave"}).status_code == 403  # the applicant can read, not act
    bad = api.post(url, "bob", json={"to": "nobody"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "to"
    assert api.post(url, "bob", json={}).get_json()["errors"][0]["field"] == "to"
    resp = api.post(url, "bob", json={"to": "dave", "comment": "I am travelling"})
    assert resp.status_code == 200 and resp.get_json()["assignee"] == "dave"
    assert api.tasks("bob") == [] and [t["id"] for t in api.tasks("dave", assignee="me")] == [task["id"]]
    assert _approve(api, task, "bob").status_code == 404
    assert _approve(api, task, "dave").status_code == 200
    moved = next(h for h in _history(api, task["instance_id"]) if h["type"] == "task_transferred")
    assert moved["user"] == "bob" and moved["data"] == {"from": "bob", "to": "dave"}
    assert moved["comment"] == "I am travelling"
    assert any(n["kind"] == "task_assigned" and "transferred" in n["title"] for n in _notifications(api, "dave"))
    assert api.post(url, "dave", json={"to": "bob"}).status_code in (404, 409)  # completed: no longer open


def test_delegate_comes_back_to_the_delegator(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    base = f"/api/v1/tasks/{task['id']}"
    resp = api.post(base + "/delegate", "bob", json={"to": "carol", "comment": "check the budget"})
    assert resp.status_code == 200 and resp.get_json()["assignee"] == "carol"
    assert api.post(base + "/delegate", "carol", json={"to": "dave"}).status_code == 409
    assert api.post(base + "/complete", "bob", json={"variables": {"approved": True}}).status_code == 403
    resolved = api.post(base + "/complete", "carol", json={"variables": {"approved": True}, "comment": "fine"})
    assert resolved.status_code == 200 and resolved.get_json()["assignee"] == "bob"
    assert resolved.get_json()["status"] == "open"  # the flow did not move: bob finishes it
    inst = api.get(f"/api/v1/process-instances/{task['instance_id']}", "alice").get_json()
    assert inst["active_element_ids"] == ["manager_approval"]
    assert api.post(base + "/complete", "bob", json={"variables": {"approved": True}}).status_code == 200
    types = [h["type"] for h in _history(api, task["instance_id"])]
    assert types.index("task_delegated") < types.index("task_resolved") < types.index("task_completed")


def test_add_signer_before_and_after(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    base = f"/api/v1/tasks/{task['id']}"
    assert api.post(base + "/add-signer", "bob", json={"user": "dave", "position": "sideways"}).status_code == 422
    before = api.post(base + "/add-signer", "bob", json={"user": "dave", "position": "before"})
    assert before.get_json()["assignee"] == "dave"
    back = api.post(base + "/complete", "dave", json={"variables": {"approved": True}})
    assert back.status_code == 200 and back.get_json()["assignee"] == "bob" and back.get_json()["status"] == "open"
    assert api.post(base + "/add-signer", "bob", json={"user": "erin", "position": "after"}).status_code == 200
    mine = api.post(base + "/complete", "bob", json={"variables": {"approved": True}})
    assert mine.get_json()["assignee"] == "erin" and mine.get_json()["status"] == "open"
    last = api.post(base + "/complete", "erin", json={"variables": {"approved": True}})
    assert last.status_code == 200 and last.get_json()["status"] == "completed"
    inst = api.get(f"/api/v1/process-instances/{task['instance_id']}", "alice").get_json()
    assert inst["status"] == "completed" and inst["variables"]["outcome"] == "approved"


def test_signer_after_can_reject(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    base = f"/api/v1/tasks/{task['id']}"
    api.post(base + "/add-signer", "bob", json={"user": "dave", "position": "after"})
    api.post(base + "/complete", "bob", json={"variables": {"approved": True}})
    api.post(base + "/complete", "dave", json={"variables": {"approved": False, "comment": "no"}})
    inst = api.get(f"/api/v1/process-instances/{task['instance_id']}", "alice").get_json()
    assert inst["variables"]["outcome"] == "rejected"


def test_return_to_an_earlier_step(api) -> None:  # noqa: ANN001
    task = _leave_task(api, days=5)
    _approve(api, task, "bob")
    hr = api.tasks("erin", candidate="me")[0]
    targets = api.get(f"/api/v1/tasks/{hr['id']}/return-targets", "erin").get_json()["items"]
    assert targets == [{"element_id": "manager_approval", "name": "Manager approval"}]
    bad = api.post(f"/api/v1/tasks/{hr['id']}/return", "erin", json={"target_element_id": "hr_decision"})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "target_element_id"
    outsider = api.post(f"/api/v1/tasks/{hr['id']}/return", "carol", json={"target_element_id": "manager_approval"})
    assert outsider.status_code == 404
    resp = api.post(f"/api/v1/tasks/{hr['id']}/return", "erin",
                    json={"target_element_id": "manager_approval", "comment": "dates are wrong"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["active_element_ids"] == ["manager_approval"]
    again = api.tasks("bob", assignee="me")
    assert [t["element_id"] for t in again] == ["manager_approval"] and api.tasks("erin") == []
    # the flow runs on from there, with history of both rounds kept
    api.post(f"/api/v1/tasks/{again[0]['id']}/complete", "bob", json={"variables": {"approved": False}})
    inst = api.get(f"/api/v1/process-instances/{task['instance_id']}", "alice").get_json()
    assert inst["status"] == "completed" and inst["variables"]["outcome"] == "rejected"
    types = [h["type"] for h in _history(api, task["instance_id"])]
    assert types.count("task_completed") == 2 and "task_returned" in types


def test_cc_gives_read_access_and_notifies(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    inst_url = f"/api/v1/process-instances/{task['instance_id']}"
    assert api.get(inst_url, "frank").status_code == 404
    resp = api.post(f"/api/v1/tasks/{task['id']}/cc", "bob", json={"users": ["frank", "frank"]})
    assert resp.status_code == 200 and resp.get_json()["added"] == ["frank"]
    assert api.get(inst_url, "frank").status_code == 200
    assert _approve(api, task, "frank").status_code == 403
    assert [n["kind"] for n in _notifications(api, "frank")] == ["cc"]
    bad = api.post(inst_url + "/cc", "alice", json={"users": ["ghost"]})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "users/0"
    assert api.post(inst_url + "/cc", "carol", json={"users": ["dave"]}).status_code == 404


def test_urge_notifies_current_approvers_once_per_interval(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    url = f"/api/v1/tasks/{task['id']}/urge"
    assert api.post(url, "carol").status_code == 404
    assert api.post(url, "bob").status_code == 403
    assert api.post(url, "alice").status_code == 200
    assert api.post(url, "alice").status_code == 409
    assert [n["kind"] for n in _notifications(api, "bob")].count("urge") == 1


def test_batch_approve_each_on_its_own(api) -> None:  # noqa: ANN001
    ids = [_leave_task(api)["id"] for _ in range(3)]
    resp = api.post("/api/v1/tasks/batch-complete", "bob",
                    json={"task_ids": [*ids, "not-a-task"], "variables": {"approved": True}, "comment": "ok"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["succeeded"] == 3 and [r["status"] for r in body["results"]] == [200, 200, 200, 404]
    assert api.tasks("bob") == []
    bad = api.post("/api/v1/tasks/batch-complete", "bob", json={"task_ids": []})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "task_ids"


def test_withdraw_only_before_anyone_acted(api) -> None:  # noqa: ANN001
    first = api.start_leave("alice", days=5).get_json()
    url = f"/api/v1/process-instances/{first['id']}/withdraw"
    assert api.post(url, "bob").status_code == 403
    resp = api.post(url, "alice", json={"reason": "not needed"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"
    assert _history(api, first["id"])[-1]["type"] == "withdrawn"
    second = api.start_leave("alice", days=5).get_json()
    task = api.tasks("bob", assignee="me")[0]
    _approve(api, task, "bob")
    late = api.post(f"/api/v1/process-instances/{second['id']}/withdraw", "alice", json={})
    assert late.status_code == 409 and "already acted" in late.get_json()["detail"]


def test_the_applicant_cannot_cancel_what_she_may_not_withdraw(api) -> None:  # noqa: ANN001
    """Cancel follows withdraw's rule for the applicant (finding 11): after an approver acted only an admin
    ends the request, through /api/v1 and /engine-rest alike; before, she may cancel it."""
    early = api.start_leave("alice", days=5).get_json()
    resp = api.post(f"/api/v1/process-instances/{early['id']}/cancel", "alice", json={"reason": "plans changed"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"
    approved = api.start_leave("alice", days=5).get_json()
    _approve(api, next(t for t in api.tasks("bob", assignee="me") if t["instance_id"] == approved["id"]), "bob")
    url = f"/api/v1/process-instances/{approved['id']}/cancel"
    late = api.post(url, "alice", json={"reason": "undo the approval"})
    assert late.status_code == 409 and "already acted" in late.get_json()["detail"], late.get_json()
    rest = api.client.delete(f"/engine-rest/process-instance/{approved['id']}", headers=api.headers("alice"))
    assert rest.status_code >= 400
    running = api.get(f"/api/v1/process-instances/{approved['id']}", "alice").get_json()
    assert running["status"] == "running"
    assert _history(api, approved["id"])[-1]["type"] != "cancelled"
    resp = api.post(url, "admin", json={"reason": "asked by HR"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"


def _two_step(key: str, first: str, second: str) -> bytes:
    return process(key, f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="step1" name="First approval" camunda:assignee="{first}">{APPROVAL_FORM}
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:userTask id="step2" name="Second approval" camunda:assignee="{second}">{APPROVAL_FORM}
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="step1" />
  <bpmn:sequenceFlow id="f2" sourceRef="step1" targetRef="step2" />
  <bpmn:sequenceFlow id="f3" sourceRef="step2" targetRef="end" />""")


def test_rule_same_approver_twice_in_a_row_is_automatic(api) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"twice.bpmn": _two_step("twice", "bob", "bob")}).status_code == 201
    inst = api.post("/api/v1/process-definitions/twice/start", "alice", json={}).get_json()
    task = api.tasks("bob", assignee="me")[0]
    _approve(api, task, "bob")
    final = api.get(f"/api/v1/process-instances/{inst['id']}", "alice").get_json()
    assert final["status"] == "completed"
    auto = [h for h in _history(api, inst["id"]) if h["type"] == "task_completed" and h["user"] is None]
    assert len(auto) == 1 and auto[0]["element_id"] == "step2" and "previous step" in auto[0]["comment"]


def test_rule_applicant_as_approver_goes_to_the_manager(api) -> None:  # noqa: ANN001
    deploy_files(api, "grace", {"self.bpmn": _two_step("self_check", "${initiator}", "dave")})
    api.post("/api/v1/process-definitions/self_check/start", "alice", json={})
    assert api.tasks("alice") == []
    assert [t["element_id"] for t in api.tasks("bob", assignee="me")] == ["step1"]


def test_rule_empty_approver_goes_to_admin(api) -> None:  # noqa: ANN001
    # dave heads the company: manager_of(dave) finds nobody, so the admin gets the task
    inst = api.start_leave("dave", days=1).get_json()
    assert [t["assignee"] for t in inst["active_tasks"]] == ["admin"]
    event = next(h for h in _history(api, inst["id"], "dave") if h["type"] == "task_reassigned")
    assert event["data"]["rule"] == "no approver could be found"


def test_notifications_for_assignment_and_outcome(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    assert any(n["kind"] == "task_assigned" for n in _notifications(api, "bob"))
    _approve(api, task, "bob")
    outcome = [n for n in _notifications(api, "alice") if n["kind"] == "outcome"]
    assert len(outcome) == 1 and "approved" in outcome[0]["title"]


def test_attachments(api) -> None:  # noqa: ANN001
    task = _leave_task(api)
    url = f"/api/v1/process-instances/{task['instance_id']}/attachments"
    pdf = b"%PDF-1.4 doctor's note"
    resp = api.client.post(url, data={"file": (io.BytesIO(pdf), "../../note.pdf")}, headers=api.headers("alice"),
                           content_type="multipart/form-data")
    assert resp.status_code == 201 and resp.get_json()["filename"] == "note.pdf"
    assert resp.get_json()["content_type"] == "application/pdf"
    html = api.client.post(url, data={"file": (io.BytesIO(b"<html><script>alert(1)</script>"), "x.pdf")},
                           headers=api.headers("alice"), content_type="multipart/form-data")
    assert html.status_code == 422
    listed = api.get(url, "bob").get_json()["items"]
    assert [a["filename"] for a in listed] == ["note.pdf"]
    download = api.get(f"{url}/{listed[0]['id']}", "bob")
    assert download.data == pdf and download.headers["Content-Disposition"].startswith("attachment")
    assert api.get(url, "carol").status_code == 404
    assert api.get(f"{url}/{listed[0]['id']}", "carol").status_code == 404


def test_webhooks_are_signed_and_sent_after_commit(api, app) -> None:  # noqa: ANN001
    received: list[tuple[dict, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((json.loads(body), self.headers["X-Oaflow-Signature"], body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True  # the receiver is on loopback
    try:
        api.use_api_key("erp")
        bad = api.post("/api/v1/webhooks", "erp", json={"url": "file:///etc/passwd"})
        assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "url"
        assert api.post("/api/v1/webhooks", "alice", json={"url": "http://127.0.0.1/"}).status_code == 403
        # an admin's webhook sees every instance (an integrator's only what its user may read)
        hook = api.post("/api/v1/webhooks", "admin", json={"url": f"http://127.0.0.1:{server.server_port}/hook",
                                                           "events": ["instance.completed"]}).get_json()
        task = _leave_task(api)
        _approve(api, task, "bob")
        from api.scheduler import deliver_webhooks_once
        assert deliver_webhooks_once(app) == 1
        assert deliver_webhooks_once(app) == 0  # sent once
        with app.app_context():
            from engine.models import WebhookDelivery
            assert db.session.scalars(select(WebhookDelivery.status)).all() == ["delivered"]
        payload, signature, raw = received[0]
        assert payload["event"] == "instance.completed" and payload["data"]["variables"]["outcome"] == "approved"
        stamp = signature.split(",")[0].removeprefix("t=")
        expected = hmac.new(hook["secret"].encode(), f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
        assert signature == f"t={stamp},v1={expected}"
        # every in-app notification goes to webhooks subscribed to "notification" too
        api.post("/api/v1/webhooks", "admin", json={"url": f"http://127.0.0.1:{server.server_port}/notes",
                                                    "events": ["notification"]})
        urged = _leave_task(api)
        assert api.post(f"/api/v1/tasks/{urged['id']}/urge", "alice").status_code == 200
        deliver_webhooks_once(app)
        kinds = [p["data"]["kind"] for p, _sig, _raw in received if p["event"] == "notification"]
        assert kinds == ["task_assigned", "urge"]
    finally:
        server.shutdown()


RETURN_LOOP = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_rl" targetNamespace="http://oaflow.example/t">
  <bpmn:process id="return_loop" name="Return in a loop" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="loop"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f6</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:scriptTask id="prepare" name="Prepare" scriptFormat="python">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f2b</bpmn:outgoing><bpmn:script>prepared = True</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="submit" name="Submit" camunda:assignee="alice">
      <bpmn:incoming>f2b</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="review" name="Review" camunda:assignee="alice">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f3b</bpmn:outgoing></bpmn:userTask>
    <bpmn:scriptTask id="note" name="Note" scriptFormat="python">
      <bpmn:incoming>f3b</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing><bpmn:script>noted = True</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="approve" name="Approve" camunda:assignee="alice">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="decide" default="f6"><bpmn:incoming>f5</bpmn:incoming>
      <bpmn:outgoing>f6</bpmn:outgoing><bpmn:outgoing>f7</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>f7</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="loop" />
    <bpmn:sequenceFlow id="f2" sourceRef="loop" targetRef="prepare" />
    <bpmn:sequenceFlow id="f2b" sourceRef="prepare" targetRef="submit" />
    <bpmn:sequenceFlow id="f3" sourceRef="submit" targetRef="review" />
    <bpmn:sequenceFlow id="f3b" sourceRef="review" targetRef="note" />
    <bpmn:sequenceFlow id="f4" sourceRef="note" targetRef="approve" />
    <bpmn:sequenceFlow id="f5" sourceRef="approve" targetRef="decide" />
    <bpmn:sequenceFlow id="f6" sourceRef="decide" targetRef="loop" />
    <bpmn:sequenceFlow id="f7" sourceRef="decide" targetRef="end">
      <bpmn:conditionExpression>approved</bpmn:conditionExpression></bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>"""


def test_return_targets_in_a_loop_name_only_steps_that_can_still_be_returned_to(api, monkeypatch) -> None:  # noqa: ANN001
    """Finished loop rounds are pruned from the state; a return that went back a round leaves some steps with
    no run to go back to, and the targets say so instead of offering a step that would answer 409."""
    monkeypatch.setattr(saving, "PRUNE_ABOVE_TASKS", 0)  # prune on every save, not only once a state is big
    assert deploy_files(api, "grace", {"return_loop.bpmn": RETURN_LOOP}).status_code == 201
    inst = api.post("/api/v1/process-definitions/return_loop/start", "alice", json={"variables": {}}).get_json()

    def open_task() -> dict:
        [task] = api.tasks("alice", assignee="me", instance_id=inst["id"])
        return task

    def complete(**variables: object) -> None:
        assert api.post(f"/api/v1/tasks/{open_task()['id']}/complete", "alice",
                        json={"variables": variables}).status_code == 200

    for round_ in range(3):  # three rejected rounds, then submit and review of round four
        complete(text=f"draft {round_}")
        complete()
        complete(approved=False)
    complete(text="draft 3")
    complete()
    approve = open_task()
    assert approve["element_id"] == "approve"
    back = api.post(f"/api/v1/tasks/{approve['id']}/return", "alice", json={"target_element_id": "submit"})
    assert back.status_code == 200, back.get_json()
    submit = open_task()
    targets = api.get(f"/api/v1/tasks/{submit['id']}/return-targets", "alice").get_json()["items"]
    for target in targets:  # every step offered can be returned to
        assert target["element_id"] in ("review", "approve")
    offered = {t["element_id"] for t in targets}
    assert "approve" in offered  # approve's run of round three is still in the state
    for element_id in ("review", "approve"):
        resp = api.post(f"/api/v1/tasks/{submit['id']}/return", "alice", json={"target_element_id": element_id})
        if element_id in offered:
            assert resp.status_code == 200, resp.get_json()
            break
        assert resp.status_code == 422, resp.get_json()
