"""Dangling references between BPMN elements are refused before SpiffWorkflow parses the file, naming the element,
the attribute and the line (SpiffWorkflow blamed a neighbour for a missing target and deployed the others)."""

from __future__ import annotations

import pytest

from tests.bpmn_samples import process
from tests.conftest import deploy_files

VALIDATE = "/api/v1/deployments/validate"
BODY = """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="mgr" name="Review" camunda:assignee="bob">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="mgr" />
  <bpmn:sequenceFlow id="f2" sourceRef="mgr" targetRef="end" />"""
BOUNDARY = """
  <bpmn:boundaryEvent id="late" attachedToRef="{ref}"><bpmn:outgoing>f3</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="end" />"""


@pytest.mark.parametrize(("body", "element", "message"), [
    (BODY.replace('targetRef="end"', 'targetRef="nowhere"'), "f2",
     "sequence flow f2 targets unknown element 'nowhere' (targetRef)"),
    (BODY.replace('sourceRef="start"', 'sourceRef="ghost"'), "f1",
     "sequence flow f1 starts at unknown element 'ghost' (sourceRef)"),
    (BODY + BOUNDARY.format(ref="zzz"), "late",
     "boundary event late is attached to unknown element 'zzz' (attachedToRef)"),
    (BODY + BOUNDARY.format(ref="end"), "late",
     "boundary event late is attached to 'end', which is not an activity of the same process or subprocess "
     "(attachedToRef)"),
    (BODY.replace('<bpmn:userTask id="mgr"', '<bpmn:userTask id="mgr" default="f1"'), "mgr",
     "the default flow 'f1' of mgr is not a sequence flow leaving it (default)"),
])
def test_a_dangling_reference_names_element_attribute_and_line(api, body: str, element: str,  # noqa: ANN001
                                                               message: str) -> None:
    xml = process("dangling", body)
    resp = deploy_files(api, "grace", {"d.bpmn": xml}, VALIDATE)
    problems = resp.get_json()["problems"]
    assert [(p["element_id"], p["message"], p["severity"]) for p in problems] == [(element, message, "error")]
    line = next(n for n, text in enumerate(xml.decode().splitlines(), 1) if f'id="{element}"' in text)
    assert problems[0]["line"] == line
    assert deploy_files(api, "grace", {"d.bpmn": xml}).status_code == 422


def test_a_well_formed_flow_still_deploys(api) -> None:  # noqa: ANN001
    xml = process("well_formed", BODY + BOUNDARY.format(ref="mgr"))
    assert deploy_files(api, "grace", {"w.bpmn": xml}).status_code == 201
