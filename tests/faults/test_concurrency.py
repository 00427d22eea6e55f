"""Concurrency faults on the test database (SQLite or PostgreSQL): many clients completing one task,
and a burst of concurrent starts."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import select

from api.extensions import db
from engine.models import HistoryEvent, IdempotentStart, ProcessInstance, Task
from tests.conftest import leave_span, run_in_threads
from tests.faults.conftest import count_rows

START = "/api/v1/process-definitions/leave_request/start"
LEAVE = {"leave_type": "annual", "start_date": "2026-12-01", "end_date": "2026-12-02", "days": 1,
         "reason": "load"}


def test_fifty_threads_complete_the_same_task_exactly_one_wins(api, app) -> None:  # noqa: ANN001
    api.start_leave("alice", days=1)
    task = api.tasks("bob", assignee="me")[0]
    token = api.token("bob")
    barrier = threading.Barrier(50)
    statuses: list[int] = []
    bodies: list[dict] = []

    def complete(_i: int) -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"variables": {"approved": True}},
                           headers={"Authorization": f"Bearer {token}"})
        statuses.append(resp.status_code)
        if resp.status_code != 200:
            bodies.append(resp.get_json())

    run_in_threads(50, complete)
    assert Counter(statuses) == {200: 1, 409: 49}, (Counter(statuses), bodies[:3])
    assert all(b["status"] == 409 and b["title"] == "Conflict" for b in bodies)
    with app.app_context():
        completed = db.session.scalars(select(HistoryEvent).where(
            HistoryEvent.type == "task_completed", HistoryEvent.instance_id == task["instance_id"])).all()
        assert len(completed) == 1
        inst = db.session.get(ProcessInstance, task["instance_id"])
        assert inst.status == "completed"
        assert db.session.get(Task, task["id"]).status == "completed"


def test_two_hundred_concurrent_starts_make_two_hundred_instances(api, app) -> None:  # noqa: ANN001
    token = api.token("alice")
    before = count_rows(app, ProcessInstance)
    barrier = threading.Barrier(200)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    spans = [leave_span(1) for _ in range(200)]  # one applicant's leaves must not overlap

    def start(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(START, json={"business_key": f"burst-{i}", "variables": {**LEAVE, **spans[i]}},
                           headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"burst-{i}"})
        with lock:
            results.append((resp.status_code, resp.get_json()))

    run_in_threads(200, start)
    statuses = Counter(s for s, _ in results)
    assert statuses == {201: 200}, (statuses, [b for s, b in results if s != 201][:3])
    assert len({b["id"] for _, b in results}) == 200
    assert count_rows(app, ProcessInstance) == before + 200
    assert count_rows(app, IdempotentStart) == 200
    with app.app_context():
        stuck = [(i.id, i.status, i.error_message) for i in db.session.scalars(
            select(ProcessInstance).where(ProcessInstance.status != "running"))]
    assert stuck == []
    # every instance got exactly its one open approval task, for bob
    assert count_rows(app, Task, Task.status == "open", Task.assignee == "bob") == 200
    assert count_rows(app, HistoryEvent, HistoryEvent.type == "started") == 200
