"""Revision e12000000001 marks the open tasks of running requests that the model did not give to the
applicant, so upgrading does not leave existing requests open to self-approval."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from api.extensions import db
from tests.bpmn_samples import user_task_process
from tests.conftest import deploy_files
from tests.test_migrations import _config


def test_upgrade_backfills_the_applicant_on_open_tasks(api, app, database_url) -> None:  # noqa: ANN001
    leave = api.start_leave("alice").get_json()  # manager approval for bob: alice excluded
    assert deploy_files(api, "grace", {"own.bpmn": user_task_process(
        "own_step", 'camunda:assignee="${initiator}"')}).status_code == 201
    own = api.post("/api/v1/process-definitions/own_step/start", "alice", json={}).get_json()  # alice's own step
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    config = _config(database_url)
    command.downgrade(config, "e12000000001-1")  # just before this revision
    command.upgrade(config, "heads")
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT instance_id, excluded_user FROM task WHERE status = 'open'")).all())
    engine.dispose()
    assert rows == {leave["id"]: "alice", own["id"]: None}
