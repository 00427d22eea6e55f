"""References between the elements of a BPMN file, checked before SpiffWorkflow parses it.

SpiffWorkflow resolves ``sourceRef``/``targetRef`` of sequence flows, ``attachedToRef`` of boundary events and
the ``default`` flow of gateways and activities as it builds the spec: a dangling target stops it with a
message about "two items, perhaps a form has the same ID?" pinned to a neighbouring element, and a dangling
source, attachment or default flow is not noticed at all (the process deploys and silently never takes that
path). :func:`flow_reference_problems` names the element, the attribute and the line of each such reference
instead; a file with any of them is not handed to SpiffWorkflow.
"""

from __future__ import annotations

from lxml import etree

from engine.bpmn_checks import ACTIVITIES, FLOW_NODES
from engine.bpmn_syntax import BPMN_NS, local_name
from engine.problems import Problem

#: elements whose direct children are one scope of flow nodes and sequence flows
SCOPES = {"process", "subProcess", "adHocSubProcess", "transaction"}
#: elements that may carry a ``default`` sequence flow
WITH_DEFAULT = ACTIVITIES | {"exclusiveGateway", "inclusiveGateway", "complexGateway"}


def _bpmn_children(scope: etree._Element) -> list[etree._Element]:
    return [c for c in scope if isinstance(c.tag, str) and c.tag.startswith(f"{{{BPMN_NS}}}")]


def _scope_problems(fname: str, scope: etree._Element, all_ids: dict[str, etree._Element]) -> list[Problem]:
    problems: list[Problem] = []
    children = _bpmn_children(scope)
    nodes = {c.get("id"): c for c in children if local_name(c) in FLOW_NODES and c.get("id")}
    flows = [c for c in children if local_name(c) == "sequenceFlow"]

    def add(node: etree._Element, message: str) -> None:
        problems.append(Problem(fname, message, node.get("id"), node.sourceline))

    def elsewhere(ref: str) -> str:
        other = all_ids.get(ref)
        return "" if other is None else f"bpmn:{local_name(other)}"

    for flow in flows:
        fid = flow.get("id") or "?"
        for attr, verb in (("sourceRef", "starts at"), ("targetRef", "targets")):
            ref = (flow.get(attr) or "").strip()
            if not ref:
                add(flow, f"sequence flow {fid} names no element in {attr}")
            elif ref not in nodes:
                kind = elsewhere(ref)
                if not kind:
                    add(flow, f"sequence flow {fid} {verb} unknown element '{ref}' ({attr})")
                else:
                    add(flow, f"sequence flow {fid} {verb} '{ref}', a {kind} that is not a flow element of the "
                              f"same process or subprocess ({attr})")
    for node in children:
        name = local_name(node)
        nid = node.get("id") or "?"
        if name == "boundaryEvent":
            ref = (node.get("attachedToRef") or "").strip()
            target = nodes.get(ref)
            if not ref:
                add(node, f"boundary event {nid} names no activity in attachedToRef")
            elif target is None and not elsewhere(ref):
                add(node, f"boundary event {nid} is attached to unknown element '{ref}' (attachedToRef)")
            elif target is None or local_name(target) not in ACTIVITIES:
                add(node, f"boundary event {nid} is attached to '{ref}', which is not an activity of the same "
                          "process or subprocess (attachedToRef)")
        if name in WITH_DEFAULT and node.get("default") is not None:
            ref = node.get("default", "").strip()
            leaving = {f.get("id") for f in flows if (f.get("sourceRef") or "").strip() == nid}
            if ref not in leaving:
                add(node, f"the default flow '{ref}' of {nid} is not a sequence flow leaving it (default)")
    return problems


def flow_reference_problems(fname: str, tree: etree._ElementTree) -> list[Problem]:
    """Every dangling sequence-flow end, boundary attachment and default flow of one BPMN file."""
    root = tree.getroot()
    all_ids = {n.get("id"): n for n in root.iter() if isinstance(n.tag, str) and n.get("id")}
    problems: list[Problem] = []
    for scope in root.iter(*(f"{{{BPMN_NS}}}{s}" for s in SCOPES)):
        problems.extend(_scope_problems(fname, scope, all_ids))
    return problems
