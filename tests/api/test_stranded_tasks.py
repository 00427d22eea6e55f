"""No task waits for someone who cannot log in (attacker finding 6): an assignee the model names who is no active
user gets the empty-approver rule at task creation, and deactivating a user hands their open tasks on (to their
manager, else the empty approver), each with a history entry saying why."""

from __future__ import annotations

from sqlalchemy import select

from api.extensions import db
from oa.models import User
from tests.bpmn_samples import user_task_process
from tests.conftest import deploy_files


def _user_id(app, username: str) -> int:  # noqa: ANN001
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def _deactivate(api, app, username: str) -> None:  # noqa: ANN001
    resp = api.post(f"/api/v1/users/{_user_id(app, username)}/deactivate", "admin", json={})
    assert resp.status_code == 200, resp.get_json()


def _history(api, instance_id: int) -> list[dict]:  # noqa: ANN001
    return api.get(f"/api/v1/process-instances/{instance_id}/history", "admin").get_json()["items"]


def _start(api, key: str, assignee: str) -> int:  # noqa: ANN001
    resp = deploy_files(api, "grace", {f"{key}.bpmn": user_task_process(key, f'camunda:assignee="{assignee}"')})
    assert resp.status_code in (200, 201), resp.get_json()
    started = api.post(f"/api/v1/process-definitions/{key}/start", "alice", json={"variables": {}})
    assert started.status_code == 201, started.get_json()
    return started.get_json()["id"]


def test_an_unknown_or_deactivated_assignee_gets_the_empty_approver(api, app) -> None:  # noqa: ANN001
    _deactivate(api, app, "frank")
    for key, name in (("probe_nobody", "nobody_here"), ("probe_leaver", "frank")):
        inst = _start(api, key, name)
        task = next(t for t in api.tasks("admin", assignee="me") if t["instance_id"] == inst)
        assert task["assignee"] == "admin"
        why = next(h for h in _history(api, inst) if h["type"] == "task_reassigned")
        assert why["data"]["from"] == name and why["data"]["to"] == "admin"
        assert f"{name} is not an active user" in why["data"]["rule"]
        done = api.post(f"/api/v1/tasks/{task['id']}/complete", "admin", json={"variables": {}})
        assert done.status_code == 200, done.get_json()


def test_deactivating_a_user_hands_their_open_tasks_to_their_manager(api, app) -> None:  # noqa: ANN001
    inst = api.start_leave("alice", days=2).get_json()
    task = next(t for t in api.tasks("bob", assignee="me") if t["instance_id"] == inst["id"])
    assert api.post(f"/api/v1/tasks/{task['id']}/transfer", "bob", json={"to": "frank"}).status_code == 200
    _deactivate(api, app, "frank")
    moved = next(t for t in api.tasks("dave", assignee="me") if t["id"] == task["id"])  # frank's manager
    assert moved["assignee"] == "dave"
    why = [h for h in _history(api, inst["id"]) if h["type"] == "task_reassigned"][-1]
    assert why["data"] == {"from": "frank", "to": "dave", "rule": "frank was deactivated"}
    assert why["user"] == "admin"
    assert any("handed over" in n["title"] for n in api.get("/api/v1/notifications", "dave").get_json()["items"])
    done = api.post(f"/api/v1/tasks/{task['id']}/complete", "dave", json={"variables": {"approved": True}})
    assert done.status_code == 200, done.get_json()


def test_a_leaver_without_an_active_manager_hands_over_to_the_empty_approver(api, app) -> None:  # noqa: ANN001
    inst = api.start_leave("alice", days=2).get_json()
    task = next(t for t in api.tasks("bob", assignee="me") if t["instance_id"] == inst["id"])
    _deactivate(api, app, "dave")  # bob's manager left first
    _deactivate(api, app, "bob")
    moved = next(t for t in api.tasks("admin", assignee="me") if t["id"] == task["id"])
    assert moved["assignee"] == "admin"
    why = [h for h in _history(api, inst["id"]) if h["type"] == "task_reassigned"][-1]
    assert why["data"]["from"] == "bob" and why["data"]["to"] == "admin"


def test_deploying_a_literal_assignee_who_is_no_active_user_warns_naming_the_element(api, app) -> None:  # noqa: ANN001
    _deactivate(api, app, "frank")
    for key, attrs, who in (("probe_warn_nobody", 'camunda:assignee="nobody_here"', "nobody_here"),
                            ("probe_warn_leaver", 'camunda:candidateUsers="bob, frank"', "frank")):
        resp = deploy_files(api, "grace", {f"{key}.bpmn": user_task_process(key, attrs)})
        assert resp.status_code == 201, resp.get_json()  # a warning, not a refusal
        warnings = [p for p in resp.get_json()["problems"] if p["severity"] == "warning" and who in p["message"]]
        assert len(warnings) == 1 and warnings[0]["element_id"] == "work", resp.get_json()["problems"]
    fine = deploy_files(api, "grace", {"probe_ok.bpmn": user_task_process("probe_ok", 'camunda:assignee="bob"')})
    assert not [p for p in fine.get_json()["problems"] if "no active user" in p["message"]]
    expr = deploy_files(api, "grace", {"probe_expr.bpmn": user_task_process(
        "probe_expr", 'camunda:assignee="${manager_of(initiator)}"')})
    assert not [p for p in expr.get_json()["problems"] if "no active user" in p["message"]]
