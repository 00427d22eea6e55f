"""A user task meant as an approval whose form cannot approve: a deploy warning.

oaflow's convention (the shipped flows, ``forms/approval.json``): an approval step is a user task whose form has
a boolean field ``approved``; the web app shows Approve / Reject for it, history and the request's outcome read it,
and the gateway after the step tests ``approved``. A user task that looks like an approval - its name says so
("approval", "approve", 审批, 批准) or the gateway right after it tests ``approved`` - but whose form has no
boolean ``approved`` field deploys, yet its approver cannot reject and the gateway cannot choose; this module
names each such task as a warning.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from engine.bpmn_syntax import BPMN_NS, local_name
from engine.element_meta import element_meta
from engine.problems import Problem

_APPROVAL_NAME = re.compile(r"approv|审批|批准", re.IGNORECASE)
_READS_APPROVED = re.compile(r"(?<![\w.'\"])approved(?![\w'\"])")
_GATEWAYS = {"exclusiveGateway", "inclusiveGateway"}


def _has_approved(form: object) -> bool:
    props = form.get("properties") if isinstance(form, dict) else None
    field = props.get("approved") if isinstance(props, dict) else None
    return isinstance(field, dict) and field.get("type") == "boolean"


def _gateway_reads_approved(task: etree._Element, flows_from: dict[str, list[etree._Element]],
                            nodes: dict[str, etree._Element]) -> bool:
    for flow in flows_from.get(task.get("id") or "", []):
        gateway = nodes.get(flow.get("targetRef") or "")
        if gateway is None or local_name(gateway) not in _GATEWAYS:
            continue
        for out in flows_from.get(gateway.get("id") or "", []):
            cond = out.find(f"{{{BPMN_NS}}}conditionExpression")
            if cond is not None and _READS_APPROVED.search(cond.text or ""):
                return True
    return False


def approval_problems(fname: str, tree: etree._ElementTree,
                      form_of: Callable[[str], object | None]) -> list[Problem]:
    """A warning for each user task of `tree` that looks like an approval but has no boolean ``approved`` field.

    `form_of(name)` returns a form file's schema (from the upload or deployed before), None when unknown: a task
    whose form cannot be read is not judged here (a missing form is an error of its own)."""
    root = tree.getroot()
    nodes = {n.get("id"): n for n in root.iter() if isinstance(n.tag, str) and n.get("id")}
    flows_from: dict[str, list[etree._Element]] = {}
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        flows_from.setdefault(flow.get("sourceRef") or "", []).append(flow)
    problems: list[Problem] = []
    for task in root.iter(f"{{{BPMN_NS}}}userTask"):
        named = bool(_APPROVAL_NAME.search(task.get("name") or ""))
        gated = _gateway_reads_approved(task, flows_from, nodes)
        if not (named or gated):
            continue
        meta = element_meta(task, {})
        if meta.generated_form is not None:
            form: object | None = meta.generated_form
        elif meta.form:
            form = form_of(meta.form)
            if form is None:
                continue
        else:
            form = {}
        if _has_approved(form):
            continue
        why = "the gateway after it tests 'approved'" if gated else "its name says so"
        problems.append(Problem(
            fname, f"user task {task.get('id')} looks like an approval ({why}) but its form has no boolean field "
            "'approved': the approver gets no Approve / Reject buttons and the flow cannot tell approval from "
            "rejection; use forms/approval.json or add camunda:formField id=\"approved\" type=\"boolean\"",
            task.get("id"), task.sourceline, "warning"))
    return problems
