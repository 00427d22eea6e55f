"""Tests for engine.parsing and engine.validation: bundles into specs, and every problem at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.parsing import ElementMeta, juel_to_python, normalize_timer, parse_bundle
from engine.validation import OperationSignature, validate_bundle

MIWG = Path(__file__).resolve().parents[1] / "corpus" / "miwg"

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="defs" targetNamespace="http://oaflow.test">
"""

LEAVE = (
    HEAD
    + """
  <bpmn:message id="Msg_1" name="leave_requested"/>
  <bpmn:process id="leave" name="Leave request" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="lane_emp" name="employees"><bpmn:flowNodeRef>start</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_mgr" name="managers"><bpmn:flowNodeRef>approve</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>gw</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="Request" camunda:formKey="embedded:deployment:leave.json">
      <bpmn:outgoing>f1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="approve" name="Approve" camunda:assignee="${manager}"
        camunda:candidateGroups="managers,hr" camunda:dueDate="${due}">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="approve.json"/>
          <spiffworkflow:property name="formUiSchemaFilename" value="approve.uischema.json"/>
          <spiffworkflow:property name="candidateUsers" value="dave"/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="remind" attachedToRef="approve" cancelActivity="false">
      <bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:timerEventDefinition id="td">
        <bpmn:timeDuration>PT48H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="reminded"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:exclusiveGateway id="gw" default="f4"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="ok"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="ko"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve"/>
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="gw"/>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="ok">
      <bpmn:conditionExpression>${approved &amp;&amp; days gt 0}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="gw" targetRef="ko"/>
    <bpmn:sequenceFlow id="f5" sourceRef="remind" targetRef="reminded"/>
  </bpmn:process>
</bpmn:definitions>
"""
)

SCHEMA = json.dumps({"type": "object", "properties": {"approved": {"type": "boolean"}}}).encode()
FORMS = {"leave.json": SCHEMA, "approve.json": SCHEMA, "approve.uischema.json": b"{}"}
OPS = {
    "crm.create_customer": OperationSignature(
        "crm.create_customer", frozenset({"name", "phone"}), frozenset({"name"})
    )
}


def process(body: str, pid: str = "p", executable: str = "true", extra: str = "") -> bytes:
    """A one-process document around `body`."""
    return (
        HEAD
        + extra
        + f'<bpmn:process id="{pid}" isExecutable="{executable}">'
        + body
        + "</bpmn:process></bpmn:definitions>"
    ).encode()


def linear(*tasks: str) -> bytes:
    """start -> tasks... -> end, each task given as XML with id t<n> (incoming/outgoing added here)."""
    body = '<bpmn:startEvent id="s"/>'
    prev = "s"
    for i, task in enumerate(tasks):
        body += task
        body += f'<bpmn:sequenceFlow id="sf{i}" sourceRef="{prev}" targetRef="t{i}"/>'
        prev = f"t{i}"
    body += f'<bpmn:endEvent id="e"/><bpmn:sequenceFlow id="sfe" sourceRef="{prev}" targetRef="e"/>'
    return process(body)


def check(bpmn: bytes, dmn: dict | None = None, forms: dict | None = None, **kwargs):
    return validate_bundle({"t.bpmn": bpmn}, dmn or {}, forms or {}, OPS, **kwargs)


def errors(problems):
    return [p for p in problems if p.severity == "error"]


def only_error(problems, element_id: str, *fragments: str):
    errs = errors(problems)
    matching = [p for p in errs if p.element_id == element_id]
    assert matching, f"no error for {element_id}: {errs}"
    for fragment in fragments:
        assert any(fragment in p.message for p in matching), (fragment, matching)
    for p in errs:
        assert p.file and p.message
    return matching[0]


# --------------------------------------------------------------------------- parsing


def test_valid_bundle_parses_with_metadata():
    processes, problems = parse_bundle({"leave.bpmn": LEAVE.encode()}, {})
    assert errors(problems) == []
    assert list(processes) == ["leave"]
    proc = processes["leave"]
    assert proc.name == "Leave request" and proc.file == "leave.bpmn"
    assert proc.spec.name == "leave" and proc.subprocess_specs == {}
    assert "approve" in proc.spec.task_specs
    assert proc.message_starts == [] and proc.timer_start is False
    start = proc.elements["start"]
    assert (start.kind, start.form, start.lane) == ("startEvent", "leave.json", "employees")
    approve = proc.elements["approve"]
    assert approve == ElementMeta(
        element_id="approve",
        name="Approve",
        kind="userTask",
        lane="managers",
        form="approve.json",
        ui_form="approve.uischema.json",
        assignee="${manager}",
        candidate_users="dave",
        candidate_groups="managers,hr",
        due_date="${due}",
    )
    assert ElementMeta.from_dict(approve.to_dict()) == approve
    assert set(proc.elements) == {"start", "approve"}


def test_valid_bundle_validates_clean():
    processes, problems = validate_bundle({"leave.bpmn": LEAVE.encode()}, {}, FORMS, OPS)
    assert problems == []
    assert list(processes) == ["leave"]


def test_message_and_timer_starts_and_call_activity_across_files():
    main = process(
        '<bpmn:startEvent id="s"><bpmn:messageEventDefinition id="md" messageRef="m1"/></bpmn:startEvent>'
        '<bpmn:callActivity id="call" calledElement="child"/><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="a" sourceRef="s" targetRef="call"/>'
        '<bpmn:sequenceFlow id="b" sourceRef="call" targetRef="e"/>',
        pid="main",
        extra='<bpmn:message id="m1" name="order_received"/>',
    )
    child = process(
        '<bpmn:startEvent id="cs"><bpmn:timerEventDefinition id="ct">'
        "<bpmn:timeCycle>R3/PT10M</bpmn:timeCycle>"
        '</bpmn:timerEventDefinition></bpmn:startEvent><bpmn:userTask id="cu" camunda:assignee="bob"/>'
        '<bpmn:endEvent id="ce"/><bpmn:sequenceFlow id="c1" sourceRef="cs" targetRef="cu"/>'
        '<bpmn:sequenceFlow id="c2" sourceRef="cu" targetRef="ce"/>',
        pid="child",
    )
    processes, problems = parse_bundle({"main.bpmn": main, "child.bpmn": child}, {})
    assert errors(problems) == []
    assert processes["main"].message_starts == ["order_received"]
    assert set(processes["main"].subprocess_specs) == {"child"}
    assert processes["main"].elements["cu"].assignee == "bob"
    assert processes["child"].timer_start is True


def test_non_executable_called_process_is_resolvable():
    main = process(
        '<bpmn:startEvent id="s"/><bpmn:callActivity id="call" calledElement="lib"/>'
        '<bpmn:sequenceFlow id="a" sourceRef="s" targetRef="call"/>',
        pid="main",
    )
    lib = process('<bpmn:startEvent id="ls"/>', pid="lib")
    processes, problems = parse_bundle({"main.bpmn": main, "lib.bpmn": lib}, {})
    assert errors(problems) == []
    assert set(processes) == {"main", "lib"}


def test_expression_helpers():
    assert juel_to_python("${amount > 100 && !rejected}") == "amount > 100 and not rejected"
    assert juel_to_python("${a eq 'x && y' || b != null}") == "a == 'x && y' or b != None"
    assert juel_to_python("amount > 1") == "amount > 1"
    assert normalize_timer("PT48H") == '"PT48H"'
    assert normalize_timer(" 2026-12-01T09:00:00Z ") == '"2026-12-01T09:00:00Z"'
    assert normalize_timer("R3/PT10M") == '"R3/PT10M"'
    assert normalize_timer('"PT1H"') == '"PT1H"'
    assert normalize_timer("due_date") == "due_date"
    assert normalize_timer("${reminder}") == "reminder"


def test_bare_iso_timer_parses_and_python_timer_is_kept():
    _, problems = check(
        linear(
            '<bpmn:intermediateCatchEvent id="t0"><bpmn:timerEventDefinition id="x">'
            "<bpmn:timeDate>2026-12-01T09:00:00Z</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>",
            '<bpmn:intermediateCatchEvent id="t1"><bpmn:timerEventDefinition id="y">'
            "<bpmn:timeDuration>wait_for</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>",
        )
    )
    assert errors(problems) == []


def test_parse_bundle_never_raises_on_garbage():
    processes, problems = parse_bundle(
        {"a.bpmn": b"<nope", "b.bpmn": b"\x00\x01", "c.bpmn": b"<x/>"}, {"d.dmn": b"<definitions/>"}
    )
    assert processes == {}
    assert {p.file for p in problems} == {"a.bpmn", "b.bpmn", "c.bpmn", "d.dmn"}


# --------------------------------------------------------------------------- validation rules


def test_rejected_xml_is_a_problem():
    _, problems = check(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    assert errors(problems)[0].file == "t.bpmn" and "DOCTYPE" in errors(problems)[0].message


def test_xsd_errors_are_all_reported_with_ids():
    # (after an unexpected element, XSD stops checking that parent's later children)
    bpmn = process(
        '<bpmn:startEvent id="s"/><bpmn:task id="s"/><bpmn:task id="t"/><bpmn:task id="t"/>'
        '<bpmn:bogus id="z"/>'
    )
    _, problems = check(bpmn)
    only_error(problems, "s", "duplicate")
    only_error(problems, "t", "duplicate")
    only_error(problems, "z", "XSD")
    assert all(p.line for p in errors(problems))


def test_not_executable_process():
    _, problems = check(process('<bpmn:startEvent id="s"/>', pid="desc", executable="false"))
    only_error(problems, "desc", "process desc is not executable (isExecutable is false)")


def test_file_without_process():
    _, problems = check((HEAD + "</bpmn:definitions>").encode())
    assert errors(problems)[0].message == "the file defines no process"


def test_process_without_start_event():
    _, problems = check(process('<bpmn:task id="t"/>'))
    only_error(problems, "p", "no start event")


def test_unsupported_elements():
    _, problems = check(
        linear(
            '<bpmn:complexGateway id="t0"/>',
            '<bpmn:intermediateThrowEvent id="t1"><bpmn:compensateEventDefinition id="c"/>'
            "</bpmn:intermediateThrowEvent>",
        )
    )
    only_error(problems, "t0", "complexGateway")
    only_error(problems, "t1", "compensat")


def test_error_start_event_in_event_subprocess_is_reported():
    body = (
        '<bpmn:startEvent id="s"/><bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/>'
        '<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="es">'
        '<bpmn:errorEventDefinition id="ed"/></bpmn:startEvent></bpmn:subProcess>'
    )
    _, problems = check(process(body))
    only_error(problems, "es", "errorEventDefinition")


GATEWAY = """<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="gw"/>
<bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>
<bpmn:sequenceFlow id="in" sourceRef="s" targetRef="gw"/>
<bpmn:sequenceFlow id="a" sourceRef="gw" targetRef="e1">{a}</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="b" sourceRef="gw" targetRef="e2">{b}</bpmn:sequenceFlow>"""


def cond(text: str) -> str:
    return f"<bpmn:conditionExpression>{text}</bpmn:conditionExpression>"


def test_gateway_without_condition_or_default():
    _, problems = check(process(GATEWAY.format(a=cond("x &gt; 1"), b="")))
    only_error(problems, "gw", "b has no condition and there is no default flow")
    assert not any("Non-default" in p.message for p in problems)


def test_gateway_with_juel_conditions_is_fine():
    _, problems = check(process(GATEWAY.format(a=cond("${x gt 1 &amp;&amp; !y}"), b=cond("${x le 1}"))))
    assert errors(problems) == []


def test_condition_that_does_not_compile():
    _, problems = check(process(GATEWAY.format(a=cond("x &gt;"), b=cond("x &lt; 1"))))
    only_error(problems, "a", "not a valid expression")


def test_script_task_that_does_not_compile():
    _, problems = check(
        linear(
            '<bpmn:scriptTask id="t0"><bpmn:script>if x\n  y = 1</bpmn:script></bpmn:scriptTask>',
            '<bpmn:scriptTask id="t1" scriptFormat="groovy"><bpmn:script>x</bpmn:script></bpmn:scriptTask>',
        )
    )
    only_error(problems, "t0", "script does not compile")
    only_error(problems, "t1", "groovy")


def service(task_id: str, inner: str = "", attrs: str = "") -> str:
    ext = f"<bpmn:extensionElements>{inner}</bpmn:extensionElements>" if inner else ""
    return f'<bpmn:serviceTask id="{task_id}" {attrs}>{ext}</bpmn:serviceTask>'


def test_service_tasks():
    op = (
        '<spiffworkflow:serviceTaskOperator id="{name}"><spiffworkflow:parameters>{params}'
        "</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>"
    )
    param = '<spiffworkflow:parameter id="{0}" type="str" value="\'x\'"/>'
    _, problems = check(
        linear(
            service("t0"),
            service("t1", op.format(name="nope", params="")),
            service("t2", op.format(name="crm.create_customer", params=param.format("email"))),
            service("t3", op.format(name="crm.create_customer", params=param.format("name"))),
            service("t4", attrs='camunda:class="com.acme.Delegate"'),
            service("t5", attrs='camunda:type="external" camunda:topic="x"'),
            service("t6", attrs='camunda:type="external"'),
        )
    )
    only_error(problems, "t0", "no implementation")
    only_error(problems, "t1", "unknown service operation 'nope'")
    only_error(problems, "t2", "has no parameter(s) email", "requires parameter(s) name")
    assert not [p for p in errors(problems) if p.element_id == "t3"]
    only_error(problems, "t4", "camunda:class", "not supported")
    assert not [p for p in errors(problems) if p.element_id == "t5"]  # an external task: a wait state
    only_error(problems, "t6", "external", "camunda:topic")


@pytest.mark.parametrize(
    "kind,value,fragment",
    [
        ("timeDuration", "48 hours", "timeDuration"),
        ("timeDuration", '"PT48X"', "not valid"),
        ("timeDate", '"2026-13-45"', "not valid"),
        ("timeCycle", '"PT10M"', "repeating interval"),
        ("timeDuration", "", "empty"),
    ],
)
def test_bad_timers(kind, value, fragment):
    bpmn = linear(
        f'<bpmn:intermediateCatchEvent id="t0"><bpmn:timerEventDefinition id="td"><bpmn:{kind}>'
        f"{value}</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )
    _, problems = check(bpmn)
    only_error(problems, "t0", fragment)


def test_missing_and_invalid_forms():
    bad_schema = json.dumps({"type": "objekt"}).encode()
    forms = {"approve.json": b"{not json", "leave.json": bad_schema, "approve.uischema.json": b"{}"}
    _, problems = check(LEAVE.encode(), forms=forms)
    errs = errors(problems)
    assert any(p.file == "approve.json" and "not valid JSON" in p.message for p in errs)
    assert any(p.file == "leave.json" and "not a valid JSON Schema" in p.message for p in errs)

    _, problems = check(LEAVE.encode(), forms={})
    only_error(problems, "start", "'leave.json' is neither in the deployment nor already deployed")
    only_error(problems, "approve", "approve.json")

    _, problems = check(LEAVE.encode(), forms={}, form_exists=lambda name: True)
    assert errors(problems) == []


DMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="dmn_defs" name="d" namespace="x">
  <decision id="approver" name="Approver">
    <decisionTable id="dt">
      <input id="i1" label="Amount">
        <inputExpression id="ie1" typeRef="number"><text>amount</text></inputExpression>
      </input>
      <output id="o1" name="approver" typeRef="string"/>
      <rule id="r1"><inputEntry id="e1"><text>&lt; 1000</text></inputEntry>
        <outputEntry id="oe1"><text>"manager"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""


def test_business_rule_tasks_and_dmn():
    bpmn = linear(
        '<bpmn:businessRuleTask id="t0" camunda:decisionRef="approver"/>',
        '<bpmn:businessRuleTask id="t1" camunda:decisionRef="missing"/>',
    )
    _, problems = check(bpmn, dmn={"rules.dmn": DMN})
    assert not [p for p in errors(problems) if p.element_id == "t0"]
    only_error(problems, "t1", "decision 'missing' is not provided by any DMN file")

    processes, problems = check(
        linear('<bpmn:businessRuleTask id="t0" camunda:decisionRef="approver"/>'), dmn={"rules.dmn": DMN}
    )
    assert errors(problems) == [] and list(processes) == ["p"]

    _, problems = check(
        linear('<bpmn:task id="t0"/>'), dmn={"bad.dmn": b"<definitions><oops/></definitions>"}
    )
    assert any(p.file == "bad.dmn" for p in errors(problems))


def test_all_problems_reported_at_once():
    bpmn = linear(
        service("t0"),
        '<bpmn:scriptTask id="t1"><bpmn:script>)(</bpmn:script></bpmn:scriptTask>',
        '<bpmn:complexGateway id="t2"/>',
    )
    _, problems = check(bpmn)
    assert {"t0", "t1", "t2"} <= {p.element_id for p in errors(problems)}


# --------------------------------------------------------------------------- MIWG corpus


def test_miwg_reference_models(capsys):
    assert MIWG.is_dir(), f"MIWG corpus missing at {MIWG}"
    files = sorted(MIWG.glob("*.bpmn"))
    assert files, "no MIWG files"
    summary = []
    for path in files:
        processes, problems = validate_bundle({path.name: path.read_bytes()}, {}, {}, OPS)
        errs = errors(problems)
        if processes and not errs:
            summary.append(f"{path.name}: deploys ({', '.join(processes)})")
        else:
            assert errs, f"{path.name}: no executable process and no error"
            for p in errs:
                assert p.file == path.name and p.message.strip()
            summary.append(
                f"{path.name}: refused - "
                + "; ".join(f"[{p.element_id or '-'}] {p.message}" for p in errs[:3])
                + (" ..." if len(errs) > 3 else "")
            )
    with capsys.disabled():
        print("\nMIWG outcome:\n" + "\n".join(summary))
