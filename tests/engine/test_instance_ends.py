"""Instance-ended hooks: a domain listener is told how an instance of its process ended (withdrawn, cancelled,
terminated by an administrator, cancelled at an incident), in the same transaction: if it fails, the
cancellation is not written either. Instances of other processes and normal completions do not call it."""

from __future__ import annotations

from api.extensions import db
from engine.instance_ends import InstanceEndHooks
from tests.bpmn_samples import process
from tests.conftest import deploy_files

ONE_TASK = """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="review" name="Review" camunda:assignee="bob">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
  <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" />"""

FAILING = """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:scriptTask id="boom" name="Boom"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    <bpmn:script>x = 1 / 0</bpmn:script></bpmn:scriptTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="boom" />
  <bpmn:sequenceFlow id="f2" sourceRef="boom" targetRef="end" />"""


def _start(api, key: str, user: str = "alice") -> int:  # noqa: ANN001
    resp = api.post(f"/api/v1/process-definitions/{key}/start", user, json={})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def _listen(app, key: str) -> list[tuple[int, str, str | None]]:  # noqa: ANN001
    heard: list[tuple[int, str, str | None]] = []
    hooks: InstanceEndHooks = app.extensions["oaflow_engine"].end_hooks
    hooks.register(key, lambda session, inst, how, user: heard.append((inst.id, how, user)))
    return heard


def test_the_hook_hears_every_way_an_instance_is_ended(api, app) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"a.bpmn": process("ends_a", ONE_TASK),
                                       "b.bpmn": process("ends_b", FAILING)}).status_code == 201
    heard = _listen(app, "ends_a")
    heard_b = _listen(app, "ends_b")
    withdrawn, cancelled, terminated, finished = (_start(api, "ends_a") for _ in range(4))
    assert api.post(f"/api/v1/process-instances/{withdrawn}/withdraw", "alice", json={"reason": "x"}
                    ).status_code == 200
    assert api.post(f"/api/v1/process-instances/{cancelled}/cancel", "alice", json={"reason": "x"}).status_code == 200
    assert api.post(f"/api/v1/process-instances/{terminated}/cancel", "admin", json={"reason": "x"}).status_code == 200
    task = next(t for t in api.tasks("bob", assignee="me") if t["instance_id"] == finished)
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob", json={"variables": {}}).status_code == 200
    assert heard == [(withdrawn, "withdrawn", "alice"), (cancelled, "cancelled", "alice"),
                     (terminated, "terminated", "admin")]  # a completion is no hook's business
    broken = _start(api, "ends_b")
    assert api.get(f"/api/v1/process-instances/{broken}", "admin").get_json()["status"] == "error"
    assert api.post(f"/api/v1/process-instances/{broken}/cancel", "admin", json={"reason": "x"}).status_code == 200
    assert heard_b == [(broken, "incident_cancelled", "admin")]


def test_a_failing_hook_undoes_the_cancellation(api, app) -> None:  # noqa: ANN001
    from store.errors import Conflict
    assert deploy_files(api, "grace", {"a.bpmn": process("ends_c", ONE_TASK)}).status_code == 201

    def refuse(session, inst, how, user) -> None:  # noqa: ANN001
        session.execute(db.text("SELECT 1"))
        raise Conflict("the record cannot be let go")

    app.extensions["oaflow_engine"].end_hooks.register("ends_c", refuse)
    inst = _start(api, "ends_c")
    assert api.post(f"/api/v1/process-instances/{inst}/cancel", "alice", json={"reason": "x"}).status_code == 409
    assert api.get(f"/api/v1/process-instances/{inst}", "alice").get_json()["status"] == "running"
