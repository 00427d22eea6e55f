"""The web start form and its as-you-type chain preview with a backtracking `pattern` (attacker finding 3): the
preview never runs a pattern, and submitting answers at once with an inline error on the field."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.conftest import deploy_files
from tests.web.conftest import LEAVE, Web

ROOT = Path(__file__).resolve().parents[3]
SLOW = "a" * 40 + "!"


def _leave_with_reason_pattern(api, pattern: str):  # noqa: ANN001, ANN202
    form = json.loads((ROOT / "forms/leave_request_start.json").read_text())
    form["properties"]["reason"]["pattern"] = pattern
    return deploy_files(api, "grace", {"leave_request.bpmn": (ROOT / "processes/leave_request.bpmn").read_bytes(),
                                       "leave_request_start.json": json.dumps(form).encode(),
                                       "approval.json": (ROOT / "forms/approval.json").read_bytes()})


def test_a_nested_quantifier_cannot_reach_the_start_form(api) -> None:  # noqa: ANN001
    resp = _leave_with_reason_pattern(api, "^(a+)+$")
    assert resp.status_code == 422
    assert any("'reason'" in e.get("message", "") for e in resp.get_json()["errors"]), resp.get_json()


def test_preview_and_submit_answer_fast_with_a_backtracking_pattern(web: Web, api) -> None:  # noqa: ANN001
    assert _leave_with_reason_pattern(api, "^(a|a)+$").status_code == 201
    web.login("alice")
    typed = {**LEAVE, "v:reason": SLOW}
    for _ in range(3):  # one request per keystroke
        started = time.monotonic()
        preview = web.post("/start/leave_request/chain-preview", typed, csrf_from="/start/leave_request")
        assert preview.status_code == 200 and time.monotonic() - started < 2
    started = time.monotonic()
    resp = web.post("/start/leave_request", typed, csrf_from="/start/leave_request")
    assert time.monotonic() - started < 5
    assert resp.status_code == 422, resp.status_code
    html = resp.get_data(as_text=True)
    assert 'id="err-reason" role="alert">Reason is not in the expected format' in html  # inline, on the field
    assert api.get("/api/v1/process-instances", "alice").get_json()["items"] == []


def test_a_pattern_deployed_before_the_check_is_not_sent_to_the_browser(web: Web, api, app) -> None:  # noqa: ANN001
    """A form stored before deploy refused nested quantifiers: its pattern stays off the page (a browser
    would backtrack on it as Python's re did), and the server still answers fast."""
    from sqlalchemy import select

    from api.extensions import db
    from engine.models import ProcessDefinition
    from tests.api.test_form_patterns import _deploy, _start
    assert _deploy(api, "probe_old", {"pattern": "^x+y$", "maxLength": 100}).status_code == 201
    web.login("alice")
    page = web.get("/start/probe_old").get_data(as_text=True)
    assert 'pattern="^x+y$"' in page  # a safe pattern is still checked as one types
    with app.app_context():
        d = db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == "probe_old")).one()
        forms = json.loads(json.dumps(d.forms))
        forms["probe_old.json"]["properties"]["code"]["pattern"] = "^(x+x+)+y$"
        d.forms = forms
        db.session.commit()
    page = web.get("/start/probe_old").get_data(as_text=True)
    assert 'name="v:code"' in page and "pattern=" not in page
    started = time.monotonic()
    resp = _start(api, "probe_old", "x" * 60)
    assert resp.status_code == 422 and time.monotonic() - started < 5
    assert resp.get_json()["errors"][0]["field"] == "code"
