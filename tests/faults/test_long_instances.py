"""Long-running looping instances keep looping (SpiffWorkflow's task-iterator depth cap is lifted in
engine/spiff_compat.py; without it the instance silently 'completed' after 333 loops)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import deploy_files

LOOP_BPMN = (Path(__file__).resolve().parents[2] / "bench" / "looping.bpmn").read_bytes()


def test_a_loop_keeps_looping_past_the_recursion_limit(api) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"looping.bpmn": LOOP_BPMN}).status_code == 201
    inst = api.post("/api/v1/process-definitions/bench_loop/start", "alice", json={"variables": {"again": True}})
    inst_id = inst.get_json()["id"]
    for i in range(400):
        items = api.tasks("alice", assignee="me", instance_id=inst_id)
        assert items, f"the instance stopped waiting after {i} loops: " + str(
            api.get(f"/api/v1/process-instances/{inst_id}", "alice").get_json()["status"])
        resp = api.post(f"/api/v1/tasks/{items[0]['id']}/complete", "alice", json={"variables": {"again": True}})
        assert resp.status_code == 200, resp.get_json()
