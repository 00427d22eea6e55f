"""An engine command and the caller's own work: a failed command rolls back only itself.

On PostgreSQL a request's read-only transaction becomes the command's write transaction (saving a
COMMIT and a BEGIN); a transaction that already wrote is committed first, whether it wrote through the
unit of work or with a plain statement. On SQLite every command starts its own BEGIN IMMEDIATE.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from api.extensions import db
from engine.errors import Forbidden
from engine.models import ProcessInstance
from engine.runtime import Actor
from oa.models import User
from oa.notifications import notify
from oa.record_models import Notification


def _running_leave(api) -> int:  # noqa: ANN001
    resp = api.start_leave("alice")
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def _refused_cancel(app, instance_id: int) -> None:  # noqa: ANN001
    """A command that fails inside its transaction: carol may not cancel alice's request."""
    with pytest.raises(Forbidden):
        app.extensions["oaflow_engine"].cancel(db.session, instance_id, Actor("carol"), "not mine")


def test_a_flushed_write_survives_a_failed_command(api, app) -> None:  # noqa: ANN001
    instance_id = _running_leave(api)
    with app.app_context():
        notify(db.session, "dave", "info", "written before the command")
        db.session.flush()
        _refused_cancel(app, instance_id)
        db.session.rollback()  # whatever the request does next, the earlier write was committed
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.title == "written before the command")) == 1
        assert db.session.get(ProcessInstance, instance_id).status == "running"


def test_a_plain_statement_write_survives_a_failed_command(api, app) -> None:  # noqa: ANN001
    instance_id = _running_leave(api)
    with app.app_context():
        db.session.execute(update(User).where(User.username == "dave").values(display_name="Dave (renamed)"))
        _refused_cancel(app, instance_id)
        db.session.rollback()
    with app.app_context():
        assert db.session.scalar(select(User.display_name).where(User.username == "dave")) == "Dave (renamed)"


def test_a_read_only_transaction_goes_on_into_the_command(api, app) -> None:  # noqa: ANN001
    instance_id = _running_leave(api)
    with app.app_context():
        assert db.session.get(User, 1) is not None  # the request's reads (authentication, access checks)
        inst = app.extensions["oaflow_engine"].cancel(db.session, instance_id, Actor("alice"), "changed my mind")
        assert inst.status == "cancelled"
    with app.app_context():
        assert db.session.get(ProcessInstance, instance_id).status == "cancelled"
