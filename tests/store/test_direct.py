"""Plain-statement writes of ORM objects (store.direct): what the engine's hot path relies on."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm.exc import StaleDataError

from engine.models import ProcessDefinition, ProcessInstance, Task
from store.direct import insert_now, update_now


def _definition_id(session) -> int:  # noqa: ANN001
    return session.scalars(select(ProcessDefinition.id).where(ProcessDefinition.key == "leave_request")).first()


def test_insert_now_writes_defaults_and_generated_ids_and_leaves_nothing_to_flush(app) -> None:  # noqa: ANN001
    from api.extensions import db
    with app.app_context():
        s = db.session
        inst = ProcessInstance(definition_id=_definition_id(s), process_key="leave_request", state="{}")
        insert_now(s, [inst])
        assert inst.id is not None and inst.lock_version == 1
        assert inst.status == "running" and inst.variables == {} and inst.started_at is not None  # Python defaults
        rows = [Task(id=f"t-{n}", instance_id=inst.id, process_key="leave_request", element_id="e", name="n")
                for n in range(3)]
        insert_now(s, rows)
        assert not s.new and not s.dirty  # persistent and clean: a flush has nothing to do
        assert rows[0] in s and rows[0].status == "open" and rows[0].candidate_users == []
        s.commit()
        found = s.execute(text("SELECT count(*) FROM task WHERE instance_id = :i"), {"i": inst.id}).scalar()
        assert found == 3
        assert s.get(ProcessInstance, inst.id) is inst  # the same object, from the identity map


def test_a_rolled_back_insert_leaves_the_session_too(app) -> None:  # noqa: ANN001
    from api.extensions import db
    with app.app_context():
        s = db.session
        inst = ProcessInstance(definition_id=_definition_id(s), process_key="leave_request", state="{}")
        insert_now(s, [inst])
        first = inst.id
        s.rollback()
        assert inst not in s
        again = ProcessInstance(definition_id=_definition_id(s), process_key="leave_request", state="{}")
        insert_now(s, [again])  # the database may hand out the same id again: no identity clash
        assert again.id >= first
        s.commit()


def test_update_now_writes_what_changed_checks_the_version_and_bumps_it(app, database_url) -> None:  # noqa: ANN001
    from api.extensions import db
    with app.app_context():
        s = db.session
        inst = ProcessInstance(definition_id=_definition_id(s), process_key="leave_request", state="{}")
        insert_now(s, [inst])
        s.commit()
        inst.state = '{"changed": true}'
        assert update_now(s, inst) is True
        assert inst.lock_version == 2 and not s.dirty
        assert update_now(s, inst) is False  # nothing changed since
        s.commit()
        # someone else bumps the version meanwhile: our stale write is refused, not lost silently
        s.execute(text("UPDATE process_instance SET lock_version = lock_version + 1 WHERE id = :i"), {"i": inst.id})
        s.commit()
        inst.state = "{}"
        with pytest.raises(StaleDataError):
            update_now(s, inst)
        s.rollback()
        assert s.get(ProcessInstance, inst.id, populate_existing=True).state == '{"changed": true}'
