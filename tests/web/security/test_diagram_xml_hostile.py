"""A designer's BPMN file may carry XHTML (a meta refresh, a fake log-in form) that Chromium draws inside XML: the
diagram XML the viewer fetches is a download with a sandbox policy, never a page on our origin, and the viewer still
draws it."""

from __future__ import annotations

from tests.conftest import Api, deploy_files
from tests.web.conftest import login

HOSTILE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="x">
 <bpmn:process id="probe_meta" name="Probe" isExecutable="true">
  <bpmn:extensionElements>
   <html:meta xmlns:html="http://www.w3.org/1999/xhtml" http-equiv="refresh" content="0;url=/phish"/>
   <html:form xmlns:html="http://www.w3.org/1999/xhtml" action="/phish"><html:h1>Session expired, log in</html:h1>
    <html:input name="password" type="password"/></html:form>
  </bpmn:extensionElements>
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="t1" name="Check" camunda:assignee="${initiator}"><bpmn:incoming>f1</bpmn:incoming>
   <bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="t1"/>
  <bpmn:sequenceFlow id="f2" sourceRef="t1" targetRef="end"/>
 </bpmn:process>
 <bpmndi:BPMNDiagram id="DI"><bpmndi:BPMNPlane id="P" bpmnElement="probe_meta">
  <bpmndi:BPMNShape id="s1" bpmnElement="start"><dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
  <bpmndi:BPMNShape id="s2" bpmnElement="t1"><dc:Bounds x="200" y="78" width="100" height="80"/></bpmndi:BPMNShape>
  <bpmndi:BPMNShape id="s3" bpmnElement="end"><dc:Bounds x="360" y="100" width="36" height="36"/></bpmndi:BPMNShape>
 </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>"""


def _deploy(api: Api) -> None:
    resp = deploy_files(api, "grace", {"probe_meta.bpmn": HOSTILE})
    assert resp.status_code == 201, resp.get_json()


def test_diagram_xml_is_a_sandboxed_download(api: Api, web) -> None:  # noqa: ANN001
    _deploy(api)
    web.login("alice")
    for lang in ("/lang/en", "/lang/zh_CN"):  # the translated copy too
        web.get(lang)
        resp = web.get("/processes/probe_meta/diagram.xml")
        assert resp.status_code == 200
        assert resp.headers["Content-Disposition"] == 'attachment; filename="probe_meta-v1.bpmn"'
        assert resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    inst = api.post("/api/v1/process-definitions/probe_meta/start", "alice", json={"variables": {}})
    assert inst.status_code == 201, inst.get_json()
    resp = web.get(f"/instances/{inst.get_json()['id']}/diagram.xml")
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    api_xml = api.get("/api/v1/process-definitions/probe_meta/xml", "alice")
    assert api_xml.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_a_link_to_the_diagram_xml_does_not_run_the_designers_markup(api: Api, page) -> None:  # noqa: ANN001
    _deploy(api)
    phished: list[str] = []
    page.route("**/phish**", lambda route: (phished.append(route.request.url), route.fulfill(body="phished")))
    login(page, "alice")
    with page.expect_download() as download:
        page.evaluate("location.assign('/processes/probe_meta/diagram.xml')")
    assert download.value.suggested_filename == "probe_meta-v1.bpmn"
    page.goto("/processes/probe_meta")  # the viewer still fetches and draws it
    page.locator(".diagram .djs-element text").first.wait_for()
    assert "Check" in page.locator(".diagram .djs-element text").all_text_contents()
    assert phished == []
