"""Fixtures for the OA record tests: direct database access inside the app, and small builders."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.extensions import db
from oa.models import User
from tests.bpmn_samples import service_process


@contextmanager
def _session(app) -> Iterator[Session]:  # noqa: ANN001
    with app.app_context():
        try:
            yield db.session
            db.session.commit()
        finally:
            db.session.remove()


@pytest.fixture
def dbs(app):  # noqa: ANN001, ANN201
    """`with dbs() as session:` a session on the test database, committed on exit."""
    return lambda: _session(app)


def user_id(app, username: str) -> int:  # noqa: ANN001
    """The id of a demo user."""
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def problem_fields(resp) -> set[str]:  # noqa: ANN001
    """The field names a problem+json response complains about."""
    assert resp.mimetype == "application/problem+json", (resp.status_code, resp.get_data(as_text=True))
    return {e["field"] for e in resp.get_json().get("errors", [])}


def run_service(api, operation: str, params: dict[str, str], key: str = "svc_test"):  # noqa: ANN001, ANN201
    """Deploy a one-service-task process as grace and start it as admin (who may write into anyone's records);
    returns the start response."""
    from tests.conftest import deploy_files
    resp = deploy_files(api, "grace", {f"{key}.bpmn": service_process(key, operation, params)})
    assert resp.status_code == 201, resp.get_json()
    return api.post(f"/api/v1/process-definitions/{key}/start", "admin", json={"variables": {}})
