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
    assert resp.status_code == 422 and "1 problem found" in html and "data-inline-xml" in html
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


def _dangling_target() -> bytes:
    from tests.bpmn_samples import process
    return process("dangling", """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="mgr" name="Review" camunda:assignee="bob">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:endEvent id="end" />
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="mgr" />
  <bpmn:sequenceFlow id="f2" sourceRef="mgr" targetRef="nowhere" />""")


def test_a_dangling_flow_is_named_in_the_readers_language(web: Web) -> None:
    import io
    web.login("grace")
    resp = web.post("/designer", {"action": "validate", "files": (io.BytesIO(_dangling_target()), "d.bpmn")},
                    csrf_from="/designer", content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert "sequence flow f2 targets unknown element &#39;nowhere&#39; (targetRef)" in html
    assert "1 problem found" in html and "problem(s)" not in html and "perhaps a form has the same ID" not in html
    assert re.search(r"<code>f2</code></td><td data-label=\"Line\">14</td>", html)

    web.get("/lang/zh_CN")
    resp = web.post("/designer", {"action": "validate", "files": (io.BytesIO(_dangling_target()), "d.bpmn")},
                    csrf_from="/designer", content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert "顺序流 f2 指向不存在的元素“nowhere”（targetRef）" in html
    assert "发现 1 个问题" in html and "problem found" not in html


def test_deploying_an_approval_without_approved_shows_the_warning(web: Web) -> None:
    import io

    from tests.api.test_approval_warnings import COMMENT_ONLY, purchase
    web.login("grace")
    web.get("/lang/zh_CN")
    resp = web.post("/designer", {"action": "deploy", "files": (io.BytesIO(purchase("经理审批", COMMENT_ONLY)),
                                                                "purchase.bpmn")},
                    csrf_from="/designer", content_type="multipart/form-data")
    assert resp.status_code == 302
    html = web.get("/designer").get_data(as_text=True)
    assert "已部署：purchase_request v1" in html
    assert re.search(r'class="flash warning"[^>]*>警告：purchase.bpmn，mgr：'
                     r"用户任务 mgr 看起来是审批环节（其后的网关判断 approved）.*forms/approval.json", html)
