"""Small BPMN documents the tests deploy (built as strings so each test shows what it runs)."""

from __future__ import annotations

import itertools

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="defs_{key}" targetNamespace="http://oaflow.example/test">
"""


def process(key: str, body: str, messages: str = "") -> bytes:
    """A one-process definitions document."""
    return (HEADER.format(key=key) + messages
            + f'<bpmn:process id="{key}" isExecutable="true">\n{body}\n</bpmn:process>\n'
            + "</bpmn:definitions>\n").encode()


def script_process(key: str, script: str) -> bytes:
    """start -> script task -> user task (for alice) -> end."""
    from xml.sax.saxutils import escape
    return process(key, f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:scriptTask id="script" name="Run script" scriptFormat="python">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    <bpmn:script>{escape(script)}</bpmn:script>
  </bpmn:scriptTask>
  <bpmn:userTask id="review" name="Review" camunda:assignee="alice">
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script" />
  <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="review" />
  <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="end" />""")


def user_task_process(key: str, attrs: str = 'camunda:assignee="alice"', name: str = "Do it") -> bytes:
    """start -> one user task -> end."""
    return process(key, f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="work" name="{name}" {attrs}>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
  <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />""")


def timer_boundary_process(key: str, duration: str = "PT1S") -> bytes:
    """A user task for alice with an interrupting timer that escalates to bob."""
    return process(key, f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:userTask id="work" name="Answer quickly" camunda:assignee="alice">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:boundaryEvent id="too_late" attachedToRef="work" cancelActivity="true">
    <bpmn:outgoing>f3</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:boundaryEvent>
  <bpmn:userTask id="escalated" name="Escalated" camunda:assignee="bob">
    <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:endEvent id="end2"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
  <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />
  <bpmn:sequenceFlow id="f3" sourceRef="too_late" targetRef="escalated" />
  <bpmn:sequenceFlow id="f4" sourceRef="escalated" targetRef="end2" />""")


def message_process(key: str, message: str = "payment_received") -> bytes:
    """Waits at an intermediate message catch event, then gives alice a task."""
    return process(key, """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:intermediateCatchEvent id="wait_payment" name="Payment received">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    <bpmn:messageEventDefinition messageRef="msg" />
  </bpmn:intermediateCatchEvent>
  <bpmn:userTask id="ship" name="Ship order" camunda:assignee="alice">
    <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait_payment" />
  <bpmn:sequenceFlow id="f2" sourceRef="wait_payment" targetRef="ship" />
  <bpmn:sequenceFlow id="f3" sourceRef="ship" targetRef="end" />""",
                   messages=f'<bpmn:message id="msg" name="{message}" />\n')


def message_start_process(key: str, message: str = "order_placed") -> bytes:
    """Started by a message; gives bob a task."""
    return process(key, """
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing>
    <bpmn:messageEventDefinition messageRef="msg_start" />
  </bpmn:startEvent>
  <bpmn:userTask id="handle" name="Handle order" camunda:assignee="bob">
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
  </bpmn:userTask>
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="handle" />
  <bpmn:sequenceFlow id="f2" sourceRef="handle" targetRef="end" />""",
                   messages=f'<bpmn:message id="msg_start" name="{message}" />\n')


def service_process(key: str, operation: str, params: dict[str, str]) -> bytes:
    """start -> one service task `call` calling `operation` with params (Python expressions) -> end."""
    return service_chain_process(key, [("call", operation, params)])


def service_chain_process(key: str, calls: list[tuple[str, str, dict[str, str]]]) -> bytes:
    """start -> a service task per (element id, operation, params) in order -> end."""
    from xml.sax.saxutils import quoteattr
    ids = ["start", *(element for element, _, _ in calls), "end"]
    tasks = []
    for n, (element, operation, params) in enumerate(calls, start=1):
        rendered = "".join(f'<spiffworkflow:parameter id="{name}" type="str" value={quoteattr(expr)} />'
                           for name, expr in params.items())
        tasks.append(f"""
  <bpmn:serviceTask id="{element}" name="Call {element}">
    <bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="{operation}" resultVariable="result_{element}">
        <spiffworkflow:parameters>{rendered}</spiffworkflow:parameters>
      </spiffworkflow:serviceTaskOperator>
    </bpmn:extensionElements>
    <bpmn:incoming>f{n}</bpmn:incoming><bpmn:outgoing>f{n + 1}</bpmn:outgoing>
  </bpmn:serviceTask>""")
    flows = "".join(f'\n  <bpmn:sequenceFlow id="f{n}" sourceRef="{a}" targetRef="{b}" />'
                    for n, (a, b) in enumerate(itertools.pairwise(ids), start=1))
    return process(key, f"""
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>{"".join(tasks)}
  <bpmn:endEvent id="end"><bpmn:incoming>f{len(calls) + 1}</bpmn:incoming></bpmn:endEvent>{flows}""")
