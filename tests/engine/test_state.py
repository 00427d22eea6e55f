"""Instance state is stored without the spec, and specs are parsed once per definition version."""

from __future__ import annotations

import json

from sqlalchemy import select

from api.extensions import db
from engine.models import ProcessInstance


def test_state_has_no_spec_and_round_trips(api, app) -> None:  # noqa: ANN001
    inst = api.start_leave("alice", days=1).get_json()
    with app.app_context():
        row = db.session.get(ProcessInstance, inst["id"])
        state = json.loads(row.state)
        assert "spec" not in state and "subprocess_specs" not in state
        assert len(row.state) < 20_000
        engine = app.extensions["oaflow_engine"]
        loaded = engine.specs.get(db.session, row.definition)
        assert engine.specs.get(db.session, row.definition) is loaded  # cached per version
        from engine.serialization import dump_state, load_state
        wf = load_state(row.state, loaded.spec, loaded.subprocess_specs)
        assert wf.spec is loaded.spec
        assert json.loads(dump_state(wf)) == state


def test_task_rows_agree_with_instance_state(api, app) -> None:  # noqa: ANN001
    api.start_leave("alice", days=5)
    task = api.tasks("bob", assignee="me")[0]
    api.post(f"/api/v1/tasks/{task['id']}/complete", "bob", json={"variables": {"approved": True}})
    with app.app_context():
        from SpiffWorkflow.util.task import TaskState

        from engine.models import Task
        from engine.serialization import load_state
        row = db.session.scalars(select(ProcessInstance)).one()
        loaded = app.extensions["oaflow_engine"].specs.get(db.session, row.definition)
        wf = load_state(row.state, loaded.spec, loaded.subprocess_specs)
        ready = {str(t.id) for t in wf.get_tasks(state=TaskState.READY, manual=True)}
        open_rows = set(db.session.scalars(select(Task.id).where(Task.instance_id == row.id, Task.status == "open")))
        assert ready == open_rows and len(ready) == 1
        assert row.active_element_ids == ["hr_approval"]
