"""Candidate users and groups of a task are each named once and at most 50 (attacker finding 7): an expression
repeating a group 10,000 times gives one candidate group; more than 50 distinct ones is an incident naming the
task's element, not a task row carrying them all."""

from __future__ import annotations

from tests.bpmn_samples import user_task_process
from tests.conftest import deploy_files


def _start(api, key: str, attrs: str) -> dict:  # noqa: ANN001
    resp = deploy_files(api, "grace", {f"{key}.bpmn": user_task_process(key, attrs)})
    assert resp.status_code in (200, 201), resp.get_json()
    started = api.post(f"/api/v1/process-definitions/{key}/start", "alice", json={"variables": {}})
    assert started.status_code == 201, started.get_json()
    return api.get(f"/api/v1/process-instances/{started.get_json()['id']}", "admin").get_json()


def test_a_group_repeated_ten_thousand_times_is_one_candidate(api) -> None:  # noqa: ANN001
    inst = _start(api, "probe_groups", """camunda:candidateGroups="${'finance,' * 10000}\"""")
    assert inst["status"] == "running", inst
    tasks = [t for t in api.tasks("carol", candidate="me") if t["instance_id"] == inst["id"]]
    assert len(tasks) == 1 and tasks[0]["candidate_groups"] == ["finance"], tasks
    users = _start(api, "probe_users", """camunda:candidateUsers="bob, carol, bob,carol ,bob\"""")
    task = next(t for t in api.tasks("bob", candidate="me") if t["instance_id"] == users["id"])
    assert task["candidate_users"] == ["bob", "carol"]


def test_more_than_fifty_distinct_candidates_is_an_incident_naming_the_task(api) -> None:  # noqa: ANN001
    inst = _start(api, "probe_many", """camunda:candidateGroups="${','.join(['g' + str(i) for i in range(51)])}\"""")
    assert inst["status"] == "error", inst
    assert inst["error"]["element_id"] == "work"
    assert "51 distinct candidateGroups" in inst["error"]["message"] and "at most 50" in inst["error"]["message"]
    fifty = _start(api, "probe_fifty", """camunda:candidateGroups="${','.join(['g' + str(i) for i in range(50)])}\"""")
    assert fifty["status"] == "running"
