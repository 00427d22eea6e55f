"""Text stored before the text rule held (a NUL, a lone surrogate in a submitted value or a comment) is shown
as U+FFFD on the request page, the approver's task page and the copy page: never a 500 (attacker finding 2).
Only SQLite can hold such text (PostgreSQL's JSONB and text refuse it), so the pages are checked there."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from tests.web.conftest import Web

SQLITE_ONLY = pytest.mark.skipif(bool(os.environ.get("OAFLOW_TEST_DATABASE_URL")),
                                 reason="PostgreSQL cannot store NUL or lone surrogates at all")
BAD = "before\x00mid\ud800after"


def _store_bad_text(app, instance_id: int) -> None:  # noqa: ANN001
    """Write the text straight into the stored instance, as /engine-rest did before the rule."""
    from api.extensions import db
    from engine.models import ProcessInstance
    with app.app_context():
        inst = db.session.get(ProcessInstance, instance_id)
        inst.variables = {**inst.variables, "reason": BAD, "comment": BAD}
        db.session.commit()
        assert db.session.scalar(select(ProcessInstance.variables).where(
            ProcessInstance.id == instance_id))["reason"] == BAD


@SQLITE_ONLY
def test_pages_show_stored_nul_and_lone_surrogates_safely(web: Web, api, app) -> None:  # noqa: ANN001
    started = api.start_leave("alice")
    assert started.status_code == 201, started.get_json()
    inst = started.get_json()["id"]
    _store_bad_text(app, inst)
    task = [t for t in api.tasks("bob", assignee="me") if t["instance_id"] == inst][0]

    web.login("alice")
    for path in (f"/instances/{inst}", f"/start/leave_request?from={inst}"):
        page = web.get(path)
        assert page.status_code == 200, (path, page.status_code)
        html = page.get_data(as_text=True)
        assert "before\ufffdmid\ufffdafter" in html, path
        assert "\x00" not in html
    web.logout()
    web.login("bob")
    page = web.get(f"/tasks/{task['id']}")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    assert "before\ufffdmid\ufffdafter" in html and "\x00" not in html
    web.logout()
    web.login("admin")
    page = web.get(f"/admin/instances/{inst}")
    assert page.status_code == 200 and "\x00" not in page.get_data(as_text=True)


def test_the_start_form_refuses_a_nul_inline(web: Web, api) -> None:  # noqa: ANN001
    """A web form can carry a NUL (%00 is valid UTF-8): the start form answers with an inline error naming
    the field, and nothing is started."""
    from tests.web.conftest import LEAVE
    web.login("alice")
    before = len(api.get("/api/v1/process-instances", "alice").get_json()["items"])
    resp = web.post("/start/leave_request", {**LEAVE, "v:reason": "trip\x00x"}, csrf_from="/start/leave_request")
    assert 400 <= resp.status_code < 500, resp.status_code
    assert "NUL" in resp.get_data(as_text=True)
    assert len(api.get("/api/v1/process-instances", "alice").get_json()["items"]) == before
