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


def test_only_one_scheduler_leads_on_postgresql(app, database_url) -> None:  # noqa: ANN001
    from api.app import create_app
    from api.config import Settings
    from api.scheduler import Leadership
    other = create_app(Settings(database_url=database_url, secret_key="x", testing=True, log_json=False))
    first, second = Leadership(app), Leadership(other)
    try:
        if database_url.startswith("postgresql"):
            assert first.is_leader() is True and second.is_leader() is False
            first.release()
            assert second.is_leader() is True and first.is_leader() is False
        else:  # SQLite: one host, every scheduler runs and the claims keep jobs exactly-once
            assert first.is_leader() and second.is_leader()
    finally:
        first.release()
        second.release()
