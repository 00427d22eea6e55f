"""Starting, working and finishing instances over HTTP: validation, idempotency, concurrency,
claims, cancel, comments, messages and timers."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from api.extensions import db
from engine.models import HistoryEvent, ProcessInstance, Task
from tests.bpmn_samples import message_process, message_start_process, timer_boundary_process, user_task_process
from tests.conftest import deploy_files, run_in_threads

START = "/api/v1/process-definitions/leave_request/start"


def _count(app, model) -> int:  # noqa: ANN001
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_start_form_is_enforced_and_names_the_field(api, app) -> None:  # noqa: ANN001
    before = _count(app, ProcessInstance)
    resp = api.start_leave("alice", start_half="noon")
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert [e["field"] for e in resp.get_json()["errors"]] == ["start_half"]
    resp = api.post(START, "alice", json={"variables": {"leave_type": "holiday"}})
    fields = {e["field"] for e in resp.get_json()["errors"]}
    assert resp.status_code == 422 and {"leave_type", "start_date", "end_date", "reason"} <= fields
    # a field the form does not declare could overwrite process variables: refused
    resp = api.start_leave("alice", outcome="approved")
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "outcome"
    resp = api.start_leave("alice", initiator="dave")
    assert resp.status_code == 422
    assert _count(app, ProcessInstance) == before


def test_business_key_and_idempotency_key(api, app) -> None:  # noqa: ANN001
    body = {"business_key": "leave-2026-42", "variables": {
        "leave_type": "sick", "start_date": "2026-12-01", "end_date": "2026-12-01", "days": 1, "reason": "flu"}}
    first = api.post(START, "alice", json=body, headers={"Idempotency-Key": "abc-1"})
    again = api.post(START, "alice", json=body, headers={"Idempotency-Key": "abc-1"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json()["id"] == again.get_json()["id"]
    assert first.get_json()["business_key"] == "leave-2026-42"
    body["variables"]["start_date"] = body["variables"]["end_date"] = "2026-12-02"  # the same days: an overlap
    other = api.post(START, "alice", json=body, headers={"Idempotency-Key": "abc-2"})
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]
    assert len(api.tasks("bob", assignee="me")) == 2
    listed = api.get("/api/v1/process-instances", "alice", query_string={"business_key": "leave-2026-42"})
    assert listed.get_json()["total"] == 2


def test_two_concurrent_completes_exactly_one_wins(api, app) -> None:  # noqa: ANN001
    api.start_leave("alice", days=1)
    task = api.tasks("bob", assignee="me")[0]
    token = api.token("bob")
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def complete() -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"variables": {"approved": True}},
                           headers={"Authorization": f"Bearer {token}"})
        statuses.append(resp.status_code)

    run_in_threads(2, lambda _i: complete())
    assert sorted(statuses) == [200, 409]
    with app.app_context():
        done = db.session.scalars(select(HistoryEvent).where(HistoryEvent.type == "task_completed")).all()
        assert len(done) == 1
        assert db.session.get(ProcessInstance, task["instance_id"]).status == "completed"


def test_completing_twice_is_a_conflict(api) -> None:  # noqa: ANN001
    api.start_leave("alice", days=1)
    task = api.tasks("bob", assignee="me")[0]
    url = f"/api/v1/tasks/{task['id']}/complete"
    assert api.post(url, "bob", json={"variables": {"approved": True}}).status_code == 200
    resp = api.post(url, "bob", json={"variables": {"approved": True}})
    assert resp.status_code == 409 and "completed" in resp.get_json()["detail"]


def test_task_form_is_enforced(api) -> None:  # noqa: ANN001
    api.start_leave("alice", days=1)
    task = api.tasks("bob", assignee="me")[0]
    url = f"/api/v1/tasks/{task['id']}/complete"
    resp = api.post(url, "bob", json={"variables": {"approved": "yes"}})
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "approved"
    resp = api.post(url, "bob", json={"variables": {}})
    assert resp.status_code == 422 and resp.get_json()["errors"][0] == {"field": "approved", "message": "is required",
                                                                        "kind": "required"}
    assert api.tasks("bob", assignee="me")[0]["status"] == "open"


def test_only_the_assignee_may_act_and_outsiders_cannot_read(api) -> None:  # noqa: ANN001
    inst = api.start_leave("alice", days=1).get_json()
    task = api.tasks("bob", assignee="me")[0]
    # carol (finance) has no part: she cannot see, read or complete it
    assert api.get(f"/api/v1/tasks/{task['id']}", "carol").status_code == 404
    assert api.get(f"/api/v1/process-instances/{inst['id']}", "carol").status_code == 404
    assert api.get(f"/api/v1/process-instances/{inst['id']}/history", "carol").status_code == 404
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "carol",
                    json={"variables": {"approved": True}}).status_code == 404
    # alice started it: she may read it and its task, but not approve her own leave
    assert api.get(f"/api/v1/tasks/{task['id']}", "alice").status_code == 200
    resp = api.post(f"/api/v1/tasks/{task['id']}/complete", "alice", json={"variables": {"approved": True}})
    assert resp.status_code == 403
    assert api.get("/api/v1/tasks", "carol", query_string={"assignee": "bob"}).status_code == 403
    assert api.get(f"/api/v1/process-instances/{inst['id']}", "admin").status_code == 200
    assert api.get("/api/v1/process-instances", "carol").get_json()["total"] == 0


def test_claim_unclaim_for_candidate_groups(api) -> None:  # noqa: ANN001
    api.start_leave("alice", days=5)
    manager_task = api.tasks("bob", assignee="me")[0]
    api.post(f"/api/v1/tasks/{manager_task['id']}/complete", "bob", json={"variables": {"approved": True}})
    task = api.tasks("erin", candidate="me")[0]
    url = f"/api/v1/tasks/{task['id']}"
    assert api.post(url + "/claim", "carol").status_code == 404  # not a candidate: cannot even see it
    assert api.post(url + "/unclaim", "erin").status_code == 403  # not claimed by erin
    resp = api.post(url + "/claim", "erin")
    assert resp.status_code == 200 and resp.get_json()["assignee"] == "erin"
    assert api.tasks("erin", candidate="me") == [] and len(api.tasks("erin", assignee="me")) == 1
    assert api.post(url + "/unclaim", "erin").get_json()["assignee"] is None
    assert len(api.tasks("erin", candidate="me")) == 1
    history = api.get(f"/api/v1/process-instances/{task['instance_id']}/history", "erin").get_json()["items"]
    assert [h["type"] for h in history if h["type"].startswith("task_")].count("task_claimed") == 1
    assert any(h["type"] == "task_unclaimed" and h["user"] == "erin" for h in history)


def test_cancel_and_comments(api, app) -> None:  # noqa: ANN001
    inst = api.start_leave("alice", days=1).get_json()
    base = f"/api/v1/process-instances/{inst['id']}"
    resp = api.post(base + "/comments", "bob", json={"text": "Please attach a note"})
    assert resp.status_code == 201 and resp.get_json()["user"] == "bob"
    assert api.post(base + "/comments", "carol", json={"text": "x"}).status_code == 404
    assert api.post(base + "/comments", "bob", json={"text": ""}).status_code == 422
    assert [c["comment"] for c in api.get(base + "/comments", "alice").get_json()["items"]] == ["Please attach a note"]
    assert api.post(base + "/cancel", "bob", json={"reason": "no"}).status_code == 403
    resp = api.post(base + "/cancel", "alice", json={"reason": "plans changed"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "cancelled"
    assert api.tasks("bob", assignee="me") == []
    assert api.post(base + "/cancel", "alice", json={}).status_code == 409
    history = api.get(base + "/history", "alice").get_json()["items"]
    assert history[-1]["type"] == "cancelled" and history[-1]["comment"] == "plans changed"
    with app.app_context():
        assert db.session.scalars(select(Task.status).where(Task.instance_id == inst["id"])).all() == ["cancelled"]


def test_message_correlation_resumes_by_business_key_and_starts(api, app) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {"pay.bpmn": message_process("order_flow"),
                                       "start.bpmn": message_start_process("order_intake")})
    assert resp.status_code == 201, resp.get_json()
    a = api.post("/api/v1/process-definitions/order_flow/start", "alice", json={"business_key": "order-1"}).get_json()
    b = api.post("/api/v1/process-definitions/order_flow/start", "alice", json={"business_key": "order-2"}).get_json()
    assert a["active_element_ids"] == ["wait_payment"]
    # ambiguous without a business key
    resp = api.post("/api/v1/messages", "admin", json={"name": "payment_received"})
    assert resp.status_code == 409
    resp = api.post("/api/v1/messages", "admin", json={"name": "payment_received", "business_key": "order-2",
                                                      "variables": {"amount": 99.5}})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["started"] is False and body["instance"]["id"] == b["id"]
    assert body["instance"]["variables"]["amount"] == 99.5
    assert [t["element_id"] for t in body["instance"]["active_tasks"]] == ["ship"]
    detail = api.get(f"/api/v1/process-instances/{a['id']}", "alice").get_json()
    assert detail["active_element_ids"] == ["wait_payment"]
    history = api.get(f"/api/v1/process-instances/{b['id']}/history", "alice").get_json()["items"]
    assert any(h["type"] == "message_received" for h in history)
    # a message that starts a process
    resp = api.post("/api/v1/messages", "admin", json={"name": "order_placed", "business_key": "o-9"})
    assert resp.status_code == 201 and resp.get_json()["started"] is True
    assert resp.get_json()["instance"]["business_key"] == "o-9"
    assert [t["element_id"] for t in api.tasks("bob", assignee="me")] == ["handle"]
    # nobody waits for it
    assert api.post("/api/v1/messages", "admin", json={"name": "nothing"}).status_code == 404
    # employees may not inject messages
    assert api.post("/api/v1/messages", "alice", json={"name": "order_placed"}).status_code == 403


def test_timer_boundary_fires_once_with_two_schedulers(api, app) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {"timer.bpmn": timer_boundary_process("quick_answer", "PT1S")})
    assert resp.status_code == 201, resp.get_json()
    inst = api.post("/api/v1/process-definitions/quick_answer/start", "alice", json={}).get_json()
    assert [t["element_id"] for t in inst["active_tasks"]] == ["work"]
    with app.app_context():
        assert db.session.get(ProcessInstance, inst["id"]).next_timer_at is not None
    time.sleep(1.3)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def scheduler() -> None:
        with app.app_context():
            barrier.wait()
            results.append(app.extensions["oaflow_engine"].fire_due_timers(db.session))
            db.session.remove()

    run_in_threads(2, lambda _i: scheduler())
    history = api.get(f"/api/v1/process-instances/{inst['id']}/history", "alice").get_json()["items"]
    assert [h["type"] for h in history].count("timer_fired") == 1
    assert [t["element_id"] for t in api.tasks("bob", assignee="me")] == ["escalated"]
    assert api.tasks("alice", assignee="me") == []
    with app.app_context():
        statuses = dict(db.session.execute(select(Task.element_id, Task.status)
                                           .where(Task.instance_id == inst["id"])).all())
    assert statuses == {"work": "cancelled", "escalated": "open"}


def test_version_is_kept_by_running_instances(api) -> None:  # noqa: ANN001
    v1 = deploy_files(api, "grace", {"p.bpmn": user_task_process("versioned", name="First")})
    assert v1.get_json()["definitions"][0]["version"] == 1
    inst = api.post("/api/v1/process-definitions/versioned/start", "alice", json={}).get_json()
    same = deploy_files(api, "grace", {"p.bpmn": user_task_process("versioned", name="First")})
    assert same.status_code == 201 and same.get_json()["definitions"][0] == {
        **same.get_json()["definitions"][0], "version": 1, "created": False}
    v2 = deploy_files(api, "grace", {"p.bpmn": user_task_process("versioned", name="Second")})
    assert v2.get_json()["definitions"][0]["version"] == 2 and v2.get_json()["definitions"][0]["created"]
    assert api.get("/api/v1/process-definitions/versioned", "alice").get_json()["version"] == 2
    assert api.get("/api/v1/process-definitions/versioned", "alice", query_string={"version": 1}).status_code == 200
    old = api.get(f"/api/v1/process-instances/{inst['id']}", "alice").get_json()
    assert old["version"] == 1 and old["active_tasks"][0]["name"] == "First"
    new = api.post("/api/v1/process-definitions/versioned/start", "alice", json={}).get_json()
    assert new["version"] == 2 and new["active_tasks"][0]["name"] == "Second"
    task_id = old["active_tasks"][0]["id"]
    assert api.post(f"/api/v1/tasks/{task_id}/complete", "alice", json={}).status_code == 200
    assert api.get(f"/api/v1/process-instances/{inst['id']}", "alice").get_json()["status"] == "completed"


def _timer_start(name: str) -> bytes:
    from tests.bpmn_samples import process
    return process("nightly_check", f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>PT1S</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:startEvent>
  <bpmn:userTask id="work" name="{name}" camunda:assignee="alice">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
  <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />""")


def test_timer_start_event_starts_an_instance_when_due(api, app) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"nightly.bpmn": _timer_start("Check v1")}).status_code == 201
    waiting = api.get("/api/v1/process-instances", "admin", query_string={"key": "nightly_check"}).get_json()
    assert waiting["total"] == 1 and waiting["items"][0]["active_element_ids"] == ["start"]
    # a new version replaces the schedule: the old waiting instance is cancelled
    assert deploy_files(api, "grace", {"nightly.bpmn": _timer_start("Check v2")}).status_code == 201
    items = api.get("/api/v1/process-instances", "admin", query_string={"key": "nightly_check"}).get_json()["items"]
    assert sorted(i["status"] for i in items) == ["cancelled", "running"]
    time.sleep(1.2)
    with app.app_context():
        app.extensions["oaflow_engine"].fire_due_timers(db.session)
    assert [t["name"] for t in api.tasks("alice", assignee="me")] == ["Check v2"]
