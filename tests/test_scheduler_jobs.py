"""The scheduler's jobs run against the real database and survive a failing job."""

from __future__ import annotations

import time

from api.scheduler import fire_timers_once
from tests.bpmn_samples import timer_boundary_process
from tests.conftest import deploy_files


def test_scheduler_job_fires_due_timers_once(api, app) -> None:  # noqa: ANN001
    deploy_files(api, "grace", {"t.bpmn": timer_boundary_process("sched_check", "PT1S")})
    api.post("/api/v1/process-definitions/sched_check/start", "alice", json={})
    time.sleep(1.2)
    assert fire_timers_once(app) == 1
    assert [t["element_id"] for t in api.tasks("bob", assignee="me")] == ["escalated"]
    assert fire_timers_once(app) == 0
