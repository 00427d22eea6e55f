"""Long-running looping instances keep looping (SpiffWorkflow's task-iterator depth cap is lifted in
engine/spiff_compat.py; without it the instance silently 'completed' after 333 loops)."""

from __future__ import annotations

from pathlib import Path

from api.extensions import db
from engine.models import ProcessInstance
from tests.conftest import deploy_files

LOOP_BPMN = (Path(__file__).resolve().parents[2] / "bench" / "looping.bpmn").read_bytes()


def test_a_loop_keeps_looping_past_the_recursion_limit(api) -> None:  # noqa: ANN001
    assert deploy_files(api, "grace", {"looping.bpmn": LOOP_BPMN}).status_code == 201
    inst = api.post("/api/v1/process-definitions/bench_loop/start", "alice", json={"variables": {"again": True}})
    inst_id = inst.get_json()["id"]
    state_size: dict[int, int] = {}
    for i in range(400):
        if i in (100, 399):
            with api.app.app_context():
                state_size[i] = len(db.session.get(ProcessInstance, inst_id).state)
        items = api.tasks("alice", assignee="me", instance_id=inst_id)
        assert items, f"the instance stopped waiting after {i} loops: " + str(
            api.get(f"/api/v1/process-instances/{inst_id}", "alice").get_json()["status"])
        resp = api.post(f"/api/v1/tasks/{items[0]['id']}/complete", "alice", json={"variables": {"again": True}})
        assert resp.status_code == 200, resp.get_json()
    # finished iterations leave the stored state (the history keeps them): it does not grow with the loop
    assert state_size[399] < 1.5 * state_size[100], state_size
    history = api.get(f"/api/v1/process-instances/{inst_id}/history", "alice").get_json()
    assert sum(1 for e in history["items"] if e["type"] == "task_completed") == 400
