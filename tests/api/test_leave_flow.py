"""The leave flow end to end over HTTP with the demo organisation."""

from __future__ import annotations


def _instance(api, inst_id, user="alice"):  # noqa: ANN001, ANN201
    resp = api.get(f"/api/v1/process-instances/{inst_id}", user)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_short_leave_needs_only_the_manager(api) -> None:  # noqa: ANN001
    resp = api.start_leave("alice", days=2)
    assert resp.status_code == 201, resp.get_json()
    inst = resp.get_json()
    assert inst["status"] == "running" and inst["started_by"] == "alice" and inst["version"] == 1

    bob_tasks = api.tasks("bob", assignee="me")
    assert [t["element_id"] for t in bob_tasks] == ["manager_approval"]
    task = bob_tasks[0]
    assert task["instance_id"] == inst["id"] and task["assignee"] == "bob" and task["due_at"]
    assert api.tasks("alice", assignee="me") == []

    detail = api.get(f"/api/v1/tasks/{task['id']}", "bob").get_json()
    assert detail["form"]["schema"]["required"] == ["approved"]

    done = api.post(f"/api/v1/tasks/{task['id']}/complete", "bob",
                    json={"variables": {"approved": True}, "comment": "enjoy"})
    assert done.status_code == 200, done.get_json()
    final = _instance(api, inst["id"])
    assert final["status"] == "completed"
    assert final["variables"]["outcome"] == "approved"
    assert final["active_tasks"] == []

    history = api.get(f"/api/v1/process-instances/{inst['id']}/history", "alice").get_json()["items"]
    types = [h["type"] for h in history]
    assert types[0] == "started" and types[-1] == "completed"
    completed = next(h for h in history if h["type"] == "task_completed")
    assert completed["user"] == "bob" and completed["comment"] == "enjoy"
    assert completed["data"] == {"variables": {"approved": True}}
    gateway = next(h for h in history if h["type"] == "gateway_passed")
    assert gateway["element_id"] == "manager_decision" and gateway["data"]["taken"] == ["mark_approved"]


def test_long_leave_goes_to_hr_and_can_be_rejected(api) -> None:  # noqa: ANN001
    inst = api.start_leave("alice", days=5).get_json()
    task = api.tasks("bob", assignee="me")[0]
    assert api.post(f"/api/v1/tasks/{task['id']}/complete", "bob",
                    json={"variables": {"approved": True}}).status_code == 200
    # HR approval is offered to the hr group: erin sees it as a candidate, bob and carol do not
    hr = api.tasks("erin", candidate="me")
    assert [t["element_id"] for t in hr] == ["hr_approval"]
    assert hr[0]["candidate_groups"] == ["hr"] and hr[0]["assignee"] is None
    assert api.tasks("carol", candidate="me") == [] and api.tasks("bob") == []
    resp = api.post(f"/api/v1/tasks/{hr[0]['id']}/complete", "erin",
                    json={"variables": {"approved": False, "comment": "too long"}})
    assert resp.status_code == 200, resp.get_json()
    final = _instance(api, inst["id"])
    assert final["status"] == "completed" and final["variables"]["outcome"] == "rejected"


def test_manager_rejection_ends_rejected(api) -> None:  # noqa: ANN001
    inst = api.start_leave("alice", days=1).get_json()
    task = api.tasks("bob", assignee="me")[0]
    api.post(f"/api/v1/tasks/{task['id']}/complete", "bob", json={"variables": {"approved": False}})
    assert _instance(api, inst["id"])["variables"]["outcome"] == "rejected"
