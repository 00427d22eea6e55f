"""The designer pages: only for the designer role; upload, problems, deploy, versions and diff."""

from __future__ import annotations

import re

from tests.web.conftest import ROOT, Web

LEAVE_XML = (ROOT / "processes" / "leave_request.bpmn").read_bytes()
BROKEN_BPMN = LEAVE_XML.replace(b'outcome = "approved"', b"outcome = (")


def test_designer_needs_the_role(web: Web) -> None:
    web.login("alice")
    assert web.get("/designer").status_code == 403
    assert web.post("/designer", {"action": "validate"}).status_code == 403


def test_designer_lists_problems_and_deploys(web: Web) -> None:
    import io
    web.login("grace")
    page = web.get("/designer").get_data(as_text=True)
    assert "leave_request" in page
    broken = BROKEN_BPMN
    resp = web.post("/designer", {"action": "deploy", "files": (io.BytesIO(broken), "broken.bpmn")},
                    csrf_from="/designer", content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "problem(s) found" in html and "data-inline-xml" in html
    assert "mark_approved" in html and "script does not compile" in html
    resp = web.post("/designer", {"action": "validate"}, csrf_from="/designer", content_type="multipart/form-data")
    assert resp.status_code == 422 and "Choose at least one file" in resp.get_data(as_text=True)

    changed = LEAVE_XML.replace(b'name="Manager approval"', b'name="Line manager approval"')
    resp = web.post("/designer", {"action": "deploy", "files": (io.BytesIO(changed), "leave_request.bpmn")},
                    csrf_from="/designer", content_type="multipart/form-data")
    assert resp.status_code == 302
    assert "leave_request v2" in web.get("/designer").get_data(as_text=True)
    versions = web.get("/designer/processes/leave_request").get_data(as_text=True)
    assert "v2" in versions and "v1" in versions
    diff = web.get("/designer/processes/leave_request/diff?a=1&b=2").get_data(as_text=True)
    assert "manager_approval" in diff and "Line manager approval" in diff and "start" not in re.findall(
        r"<code>([^<]+)</code>", diff)
    assert web.get("/designer/processes/leave_request/diff?a=1").status_code == 422
    assert web.get("/designer/processes/leave_request/diff?a=1&b=9").status_code == 404
    assert web.get("/designer/processes/nope").status_code == 404
    assert web.get("/processes/leave_request?version=2").status_code == 200
    assert web.get("/processes/leave_request?version=x").status_code == 422
