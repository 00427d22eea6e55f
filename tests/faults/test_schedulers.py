"""Two schedulers (separate app instances, each with its own APScheduler poller and connection pool)
against one database: every due timer fires exactly once."""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import select

from api.app import create_app
from api.config import Settings
from api.extensions import db
from api.scheduler import start_scheduler
from engine.models import HistoryEvent, ProcessInstance, Task
from tests.bpmn_samples import timer_boundary_process
from tests.conftest import deploy_files

INSTANCES = 30


def test_two_schedulers_fire_each_due_timer_once(api, app, database_url, tmp_path) -> None:  # noqa: ANN001
    resp = deploy_files(api, "grace", {"timer.bpmn": timer_boundary_process("quick_answer", "PT1S")})
    assert resp.status_code == 201, resp.get_json()
    ids = []
    for i in range(INSTANCES):
        resp = api.post("/api/v1/process-definitions/quick_answer/start", "alice", json={"business_key": f"t{i}"})
        assert resp.status_code == 201, resp.get_json()
        ids.append(resp.get_json()["id"])
    schedulers, apps = [], []
    for n in range(2):
        other = create_app(Settings(database_url=database_url, secret_key="test", testing=True, log_json=False,
                                    upload_dir=str(tmp_path / f"u{n}")))
        apps.append(other)
    time.sleep(1.1)  # every timer is due now
    try:
        for other in apps:
            schedulers.append(start_scheduler(other, interval=0.1))
        deadline = time.monotonic() + 180  # a hang guard: a busy machine fires them slower
        while time.monotonic() < deadline:
            with app.app_context():
                pending = db.session.scalar(select(ProcessInstance.id).where(
                    ProcessInstance.next_timer_at.is_not(None)).limit(1))
                db.session.remove()
            if pending is None:
                break
            time.sleep(0.2)
        time.sleep(0.5)  # let both pollers run again over the (now empty) queue
    finally:
        for sched in schedulers:
            sched.shutdown(wait=True)
        for other in apps:
            with other.app_context():
                db.session.remove()
                db.engine.dispose()
    with app.app_context():
        fired = Counter(db.session.scalars(select(HistoryEvent.instance_id).where(
            HistoryEvent.type == "timer_fired")).all())
        errors = db.session.scalars(select(ProcessInstance.id).where(ProcessInstance.status == "error")).all()
        escalated = Counter(db.session.scalars(select(Task.instance_id).where(
            Task.element_id == "escalated", Task.status == "open")).all())
        cancelled = db.session.scalars(select(Task.instance_id).where(
            Task.element_id == "work", Task.status == "cancelled")).all()
    assert errors == []
    assert fired == {i: 1 for i in ids}, fired
    assert escalated == {i: 1 for i in ids}
    assert sorted(cancelled) == sorted(ids)
