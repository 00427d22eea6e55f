"""A user task meant as an approval (named so, or a gateway after it tests `approved`) without a boolean `approved`
field deploys with a warning naming it; the shipped convention (forms/approval.json) gives none."""

from __future__ import annotations

from tests.bpmn_samples import process
from tests.conftest import ROOT, deploy_files

APPROVAL = (ROOT / "forms" / "approval.json").read_bytes()


def purchase(task_name: str, form: str) -> bytes:
    """start -> a manager's step with `form` -> a gateway on `approved` -> end."""
    return process("purchase_request", f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="mgr" name="{task_name}" camunda:assignee="bob">
    {form}
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
  <bpmn:exclusiveGateway id="ok" default="no"><bpmn:incoming>f2</bpmn:incoming></bpmn:exclusiveGateway>
  <bpmn:endEvent id="done" /><bpmn:endEvent id="refused" />
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="mgr" />
  <bpmn:sequenceFlow id="f2" sourceRef="mgr" targetRef="ok" />
  <bpmn:sequenceFlow id="yes" sourceRef="ok" targetRef="done">
    <bpmn:conditionExpression>approved</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="no" sourceRef="ok" targetRef="refused" />""")


COMMENT_ONLY = """<bpmn:extensionElements><camunda:formData>
      <camunda:formField id="comment" label="评论" type="string" /></camunda:formData></bpmn:extensionElements>"""
APPROVED_FIELD = """<bpmn:extensionElements><camunda:formData>
      <camunda:formField id="approved" label="同意" type="boolean" /></camunda:formData></bpmn:extensionElements>"""
SHIPPED_FORM = """<bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="approval.json" />
    </spiffworkflow:properties></bpmn:extensionElements>"""


def _warnings(resp) -> list[tuple[str, str]]:  # noqa: ANN001
    assert resp.status_code == 201, resp.get_json()
    return [(p["element_id"], p["message"]) for p in resp.get_json()["problems"] if p["severity"] == "warning"]


def test_an_approval_without_an_approved_field_is_a_warning(api) -> None:  # noqa: ANN001
    found = _warnings(deploy_files(api, "grace", {"p.bpmn": purchase("经理审批", COMMENT_ONLY)}))
    assert len(found) == 1 and found[0][0] == "mgr"
    assert "looks like an approval (the gateway after it tests 'approved')" in found[0][1]
    assert "boolean field 'approved'" in found[0][1] and "forms/approval.json" in found[0][1]

    named_only = purchase("Manager approval", COMMENT_ONLY).replace(b"<bpmn:conditionExpression>approved",
                                                                    b"<bpmn:conditionExpression>comment")
    found = _warnings(deploy_files(api, "grace", {"p.bpmn": named_only}))
    assert [m for _e, m in found] and "(its name says so)" in found[0][1]


def test_the_approval_conventions_deploy_without_a_warning(api) -> None:  # noqa: ANN001
    assert _warnings(deploy_files(api, "grace", {"p.bpmn": purchase("经理审批", APPROVED_FIELD)})) == []
    assert _warnings(deploy_files(api, "grace", {"p.bpmn": purchase("Check", SHIPPED_FORM),
                                                 "approval.json": APPROVAL})) == []
    # approval.json deployed before (by oaflow init) counts too
    assert _warnings(deploy_files(api, "grace", {"p.bpmn": purchase("Manager approval", SHIPPED_FORM)})) == []
    assert _warnings(deploy_files(api, "grace", {"p.bpmn": purchase("Record the outcome", COMMENT_ONLY).replace(
        b"<bpmn:conditionExpression>approved", b"<bpmn:conditionExpression>comment")})) == []
