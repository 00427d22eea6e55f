"""The XML-level checks of one BPMN file: what SpiffWorkflow stops at on the first occurrence or does not
notice at all (see engine.validation for the list). Each problem names its file, element and line."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.bpmn_syntax import (
    BPMN_NS,
    CAMUNDA_NS,
    NS,
    SPIFF_NS,
    local_name,
    normalize_condition,
    normalize_timer,
)
from engine.problems import Problem
from engine.timer_cycles import check_cron, cycle_interval_problem, is_cron

PYTHON_SCRIPT_FORMATS = {"", "python", "python3", "text/python", "text/x-python", "application/x-python"}

#: elements SpiffWorkflow cannot run at all
UNSUPPORTED_ELEMENTS = {
    "complexGateway": "complex gateways are not supported by SpiffWorkflow",
    "choreography": "choreographies are not executable",
    "choreographyTask": "choreography tasks are not executable",
    "subChoreography": "sub-choreographies are not executable",
    "callChoreography": "call choreographies are not executable",
    "globalChoreographyTask": "choreography tasks are not executable",
    "compensateEventDefinition": "compensation events are not supported by SpiffWorkflow",
    "linkEventDefinition": "link events are not supported by SpiffWorkflow (the flow would silently stop)",
}
#: descriptive elements SpiffWorkflow ignores while the process still runs
IGNORED_ELEMENTS = {
    "conversation": "conversations are descriptive and ignored",
    "subConversation": "conversations are descriptive and ignored",
    "callConversation": "conversations are descriptive and ignored",
}
ACTIVITIES = {
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "subProcess", "adHocSubProcess", "transaction", "callActivity",
}
FLOW_NODES = ACTIVITIES | {
    "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway",
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "implicitThrowEvent",
}


@dataclass(frozen=True)
class OperationSignature:
    """A registered service-task operation: its name, allowed and required parameter names."""

    name: str
    params: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()


def _compile_check(source: str, mode: str) -> str | None:
    try:
        compile(source, "<condition>" if mode == "eval" else "<script>", mode)
    except SyntaxError as exc:
        return f"{exc.msg} (line {exc.lineno})" if exc.lineno else exc.msg
    except (ValueError, TypeError) as exc:
        return str(exc)
    return None


def check_expression(source: str) -> str | None:
    """None if `source` is an acceptable expression, else an error message."""
    try:
        from engine.scripting import check_expression as checker
    except ImportError:
        return _compile_check(source, "eval")
    return checker(source)


def check_script(source: str) -> str | None:
    """None if `source` is an acceptable script, else an error message."""
    try:
        from engine.scripting import check_script as checker
    except ImportError:
        return _compile_check(source, "exec")
    return checker(source)


def bpmn_tag(tag: str) -> str:
    """The namespaced tag of a BPMN element."""
    return f"{{{BPMN_NS}}}{tag}"


class FileChecker:
    """Runs every XML-level check on one BPMN file."""

    def __init__(
        self,
        fname: str,
        tree: etree._ElementTree,
        operations: Mapping[str, OperationSignature],
        decision_ids: set[str],
    ) -> None:
        self.fname = fname
        self.root = tree.getroot()
        self.operations = operations
        self.decision_ids = decision_ids
        self.problems: list[Problem] = []
        self.supported = set(SpiffBpmnParser.PARSER_CLASSES) | set(SpiffBpmnParser.OVERRIDE_PARSER_CLASSES)

    def add(
        self,
        node: etree._Element | None,
        message: str,
        severity: str = "error",
        element_id: str | None = None,
    ) -> None:
        if element_id is None and node is not None:
            element_id = node.get("id")
        line = node.sourceline if node is not None else None
        self.problems.append(Problem(self.fname, message, element_id, line, severity))

    def run(self) -> list[Problem]:
        for process in self.root.findall(bpmn_tag("process")):
            if (
                process.find(bpmn_tag("startEvent")) is None
                and process.get("isExecutable", "true").lower() == "true"
            ):
                self.add(process, f"process {process.get('id')} has no start event")
        self.check_elements()
        self.check_gateways_and_flows()
        self.check_scripts()
        self.check_service_tasks()
        self.check_timers()
        self.check_business_rules()
        return self.problems

    def check_elements(self) -> None:
        for node in self.root.iter():
            if not isinstance(node.tag, str):
                continue
            name = local_name(node)
            if node.tag.startswith(f"{{{BPMN_NS}}}"):
                if name in UNSUPPORTED_ELEMENTS:
                    owner = (
                        node if node.get("id") and not name.endswith("EventDefinition") else node.getparent()
                    )
                    self.add(owner, f"unsupported element bpmn:{name}: {UNSUPPORTED_ELEMENTS[name]}")
                elif name in IGNORED_ELEMENTS:
                    self.add(node, f"bpmn:{name} ignored: {IGNORED_ELEMENTS[name]}", "warning")
                elif name in FLOW_NODES and node.tag not in self.supported:
                    self.add(node, f"unsupported element bpmn:{name}: SpiffWorkflow cannot run it")
                elif name == "startEvent":
                    for kind in ("errorEventDefinition", "escalationEventDefinition"):
                        if node.find(bpmn_tag(kind)) is not None:
                            self.add(
                                node,
                                f"start events with {kind} are not supported by SpiffWorkflow "
                                "(it would treat this as a plain start event)",
                            )

    def _outgoing(self) -> dict[str, list[etree._Element]]:
        outgoing: dict[str, list[etree._Element]] = {}
        for flow in self.root.iter(bpmn_tag("sequenceFlow")):
            outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
        return outgoing

    def check_gateways_and_flows(self) -> None:
        outgoing = self._outgoing()
        nodes = {n.get("id"): n for n in self.root.iter() if isinstance(n.tag, str) and n.get("id")}
        for kind in ("exclusiveGateway", "inclusiveGateway"):
            for gw in self.root.iter(bpmn_tag(kind)):
                flows = outgoing.get(gw.get("id"), [])
                if len(flows) <= 1 or gw.get("default"):
                    continue
                bare = [f.get("id") for f in flows if f.find(bpmn_tag("conditionExpression")) is None]
                if bare:
                    self.add(
                        gw,
                        f"{kind} has {len(flows)} outgoing flows but {', '.join(bare)} "
                        f"{'has' if len(bare) == 1 else 'have'} no condition and there is no default flow",
                    )
        for flow in self.root.iter(bpmn_tag("sequenceFlow")):
            cond = flow.find(bpmn_tag("conditionExpression"))
            if cond is None:
                continue
            source = nodes.get(flow.get("sourceRef"))
            if source is not None and local_name(source) in ACTIVITIES:
                self.add(
                    flow,
                    f"the condition on a flow leaving {local_name(source)} {source.get('id')} is "
                    "ignored by SpiffWorkflow: use a gateway",
                    "warning",
                )
                continue
            text = (cond.text or "").strip()
            if not text:
                self.add(flow, "the sequence flow has an empty condition")
                continue
            error = check_expression(normalize_condition(text))
            if error:
                self.add(flow, f"condition {text!r} is not a valid expression: {error}")

    def check_scripts(self) -> None:
        for task in self.root.iter(bpmn_tag("scriptTask")):
            fmt = (task.get("scriptFormat") or "").strip().lower()
            if fmt not in PYTHON_SCRIPT_FORMATS:
                self.add(
                    task, f"script language {task.get('scriptFormat')!r} is not supported: scripts are Python"
                )
                continue
            script = task.find(bpmn_tag("script"))
            if script is None or not (script.text or "").strip():
                self.add(task, "script task has no script")
                continue
            error = check_script(script.text)
            if error:
                self.add(task, f"script does not compile: {error}")
        for tag in ("preScript", "postScript"):
            for node in self.root.iter(f"{{{SPIFF_NS}}}{tag}"):
                if (node.text or "").strip():
                    error = check_script(node.text)
                    if error:
                        owner = node.getparent().getparent()
                        self.add(owner, f"{tag} does not compile: {error}")

    def check_service_tasks(self) -> None:
        for task in self.root.iter(bpmn_tag("serviceTask")):
            camunda = [
                a for a in ("class", "delegateExpression", "expression") if task.get(f"{{{CAMUNDA_NS}}}{a}")
            ]
            if task.get(f"{{{CAMUNDA_NS}}}type") == "external":  # a wait state for an external worker
                topic = (task.get(f"{{{CAMUNDA_NS}}}topic") or "").strip()
                if not topic or len(topic) > 255:
                    self.add(task, 'camunda:type="external" needs a camunda:topic of 1 to 255 characters')
                continue
            if camunda:
                self.add(
                    task,
                    f"camunda:{camunda[0]} service tasks are not supported: use "
                    "spiffworkflow:serviceTaskOperator with a registered operation",
                )
                continue
            operator = task.find(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}serviceTaskOperator")
            if operator is None:
                self.add(task, "service task has no implementation (no spiffworkflow:serviceTaskOperator)")
                continue
            name = operator.get("id")
            if not name:
                self.add(task, "spiffworkflow:serviceTaskOperator has no id (operation name)")
                continue
            signature = self.operations.get(name)
            if signature is None:
                known = ", ".join(sorted(self.operations)) or "none registered"
                self.add(task, f"unknown service operation {name!r} (known: {known})")
                continue
            params = {p.get("id") for p in operator.iter(f"{{{SPIFF_NS}}}parameter") if p.get("id")}
            unknown = sorted(params - set(signature.params))
            missing = sorted(set(signature.required) - params)
            if unknown:
                self.add(task, f"operation {name!r} has no parameter(s) {', '.join(unknown)}")
            if missing:
                self.add(task, f"operation {name!r} requires parameter(s) {', '.join(missing)}")
            for p in operator.iter(f"{{{SPIFF_NS}}}parameter"):
                if p.get("id") and p.get("value") is not None:
                    error = check_expression(p.get("value"))
                    if error:
                        self.add(task, f"parameter {p.get('id')!r} value is not a valid expression: {error}")

    def check_timers(self) -> None:
        for timer in self.root.iter(bpmn_tag("timerEventDefinition")):
            event = timer.getparent()
            values = [
                (local_name(c), c)
                for c in timer
                if isinstance(c.tag, str) and local_name(c) in ("timeDate", "timeDuration", "timeCycle")
            ]
            if not values:
                self.add(event, "timer has no timeDate, timeDuration or timeCycle")
                continue
            kind, node = values[0]
            raw = (node.text or "").strip()
            if not raw:
                self.add(event, f"timer {kind} is empty")
                continue
            expr = normalize_timer(raw)
            try:
                literal = ast.literal_eval(expr)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                literal = None
            if isinstance(literal, str):
                error = _check_iso(kind, literal)
                if error:
                    self.add(event, f"timer {kind} {raw!r} is not valid: {error}")
            elif literal is not None:
                self.add(event, f"timer {kind} {raw!r} must be an ISO 8601 string")
            else:
                error = check_expression(expr)
                if error:
                    self.add(
                        event, f"timer {kind} {raw!r} is neither ISO 8601 nor a valid expression: {error}"
                    )

    def check_business_rules(self) -> None:
        for task in self.root.iter(bpmn_tag("businessRuleTask")):
            ref = task.xpath(
                "string(./bpmn:extensionElements/spiffworkflow:calledDecisionId)", namespaces=NS
            ).strip()
            ref = ref or (task.get(f"{{{CAMUNDA_NS}}}decisionRef") or "").strip()
            if not ref:
                self.add(
                    task,
                    "business rule task names no decision "
                    "(spiffworkflow:calledDecisionId or camunda:decisionRef)",
                )
            elif ref not in self.decision_ids:
                self.add(task, f"decision {ref!r} is not provided by any DMN file in the deployment")



def _check_iso(kind: str, value: str) -> str | None:
    """Check an ISO 8601 timer literal with SpiffWorkflow's own helpers."""
    try:
        if kind == "timeDuration":
            if not value.upper().startswith("P"):
                return "expected an ISO 8601 duration such as PT48H"
            TimerEventDefinition.parse_iso_duration(value)
        elif kind == "timeDate":
            TimerEventDefinition.parse_time_or_duration(value)
            if value.upper().startswith("P"):
                return "expected an ISO 8601 date-time such as 2026-12-01T09:00:00Z"
        elif is_cron(value):
            return check_cron(value) or cycle_interval_problem(value)
        else:
            if not value.upper().startswith("R"):
                return "expected a repeating interval such as R3/PT10M"
            TimerEventDefinition.parse_iso_recurring_interval(value)
            return cycle_interval_problem(value)
    except Exception as exc:  # SpiffWorkflow raises bare Exception / ValueError / AttributeError
        return str(exc) or type(exc).__name__
    return None
