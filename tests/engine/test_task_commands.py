"""Task commands take what the caller has already read: a claim given the task row it checked reads the task
once more only under its instance's lock (no hidden reliance on the session's identity map)."""

from __future__ import annotations

import gc
import re

import pytest
from sqlalchemy import event

from api.extensions import db
from engine.errors import Forbidden
from engine.models import Task
from engine.runtime import Actor
from tests.bpmn_samples import process
from tests.conftest import deploy_files

QUEUE = """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="queue" name="From the queue" camunda:candidateGroups="sales">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="queue" />
  <bpmn:sequenceFlow id="f2" sourceRef="queue" targetRef="end" />"""


def _queued_task(api) -> str:  # noqa: ANN001
    assert deploy_files(api, "grace", {"q.bpmn": process("queue_claim", QUEUE)}).status_code == 201
    inst = api.post("/api/v1/process-definitions/queue_claim/start", "carol", json={}).get_json()
    return next(t["id"] for t in api.tasks("bob", candidate="me") if t["instance_id"] == inst["id"])


def _task_selects(app, run) -> int:  # noqa: ANN001
    """How many SELECTs on the tasks table `run` makes."""
    seen: list[str] = []

    def note(conn, cursor, statement, params, context, executemany) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT") and re.search(rf"\bFROM {Task.__tablename__}\b", statement):
            seen.append(statement)

    bind = db.engine
    event.listen(bind, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(bind, "before_cursor_execute", note)
    return len(seen)


def test_a_claim_given_the_row_reads_the_task_only_under_the_lock(api, app) -> None:  # noqa: ANN001
    task_id = _queued_task(api)
    engine = app.extensions["oaflow_engine"]
    bob = Actor("bob", groups=frozenset({"sales"}))
    with app.app_context():
        row = db.session.get(Task, task_id)
        claimed = []
        gc.collect()
        assert _task_selects(app, lambda: claimed.append(engine.claim(db.session, task_id, bob, row=row))) == 1
        assert claimed[0].assignee == "bob"
        unclaimed = []
        row = db.session.get(Task, task_id)
        assert _task_selects(app, lambda: unclaimed.append(engine.unclaim(db.session, task_id, bob, row=row))) == 1
        assert unclaimed[0].assignee is None


def test_a_claim_still_checks_the_actor_under_the_lock(api, app) -> None:  # noqa: ANN001
    task_id = _queued_task(api)
    engine = app.extensions["oaflow_engine"]
    with app.app_context():
        row = db.session.get(Task, task_id)
        with pytest.raises(Forbidden):
            engine.claim(db.session, task_id, Actor("mallory"), row=row)
    assert api.get(f"/api/v1/tasks/{task_id}", "bob").get_json()["assignee"] is None
