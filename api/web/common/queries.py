"""Read-side helpers for the web pages: work lists, counts, the finished path of an instance, version diffs.

These only read; every change goes through the engine (or a domain service) exactly as the API does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from engine.models import DeploymentFile, HistoryEvent, ProcessDefinition, ProcessInstance, Task, TaskCandidate
from engine.parsing import ElementMeta
from engine.runtime import Actor
from engine.xmlsafe import parse_xml
from store.base import utcnow
from store.clock import company_date, day_start_utc

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DONE_EVENTS = ("task_completed", "gateway_passed", "timer_fired", "message_received")
# elements that never wait: once the path reaches them they have run
AUTOMATIC = {"scriptTask", "serviceTask", "businessRuleTask", "sendTask", "task", "endEvent",
             "intermediateThrowEvent", "parallelGateway", "startEvent"}


def my_tasks_query(actor: Actor, key: str | None = None, due: str | None = None) -> Select:
    """Open tasks assigned to the actor or offered to them (user or group candidate), newest first."""
    groups = sorted(actor.groups)
    offered = Task.id.in_(select(TaskCandidate.task_id).where(or_(
        (TaskCandidate.kind == "user") & (TaskCandidate.value == actor.username),
        (TaskCandidate.kind == "group") & (TaskCandidate.value.in_(groups))))) & or_(
        Task.excluded_user.is_(None), Task.excluded_user != actor.username)  # not the applicant's own request
    query = select(Task).where(Task.status == "open",
                               or_(Task.assignee == actor.username, Task.assignee.is_(None) & offered))
    if key:
        query = query.where(Task.process_key == key)
    now = utcnow()
    if due == "overdue":
        query = query.where(Task.due_at.is_not(None), Task.due_at < now)
    elif due == "today":
        tomorrow = company_date(now) + timedelta(days=1)  # due before the company's midnight tonight
        query = query.where(Task.due_at.is_not(None), Task.due_at < day_start_utc(tomorrow))
    elif due == "week":
        query = query.where(Task.due_at.is_not(None), Task.due_at < now + timedelta(days=7))
    elif due == "none":
        query = query.where(Task.due_at.is_(None))
    return query.order_by(Task.created_at.desc(), Task.id)


def my_requests_query(actor: Actor, status: str | None = None) -> Select:
    """Instances the actor started, newest first."""
    query = select(ProcessInstance).where(ProcessInstance.started_by == actor.username)
    if status:
        query = query.where(ProcessInstance.status == status)
    return query.order_by(ProcessInstance.id.desc())


def count(session: Session, query: Select) -> int:
    """Rows a select would return."""
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


EXACT_COUNT_UP_TO = 10_000  # a list's total past this shows as "10,000+" (counting 200k rows costs ~100 ms)


def capped_count(session: Session, query: Select, cap: int = EXACT_COUNT_UP_TO) -> tuple[int, bool]:
    """(rows a select would return, False) when at most `cap`, else (cap, True): a bounded count."""
    capped = query.order_by(None).limit(cap + 1).subquery()
    counted = session.scalar(select(func.count()).select_from(capped)) or 0
    return (cap, True) if counted > cap else (counted, False)


def page_window(page: int, pages: int, around: int = 2) -> list[int | None]:
    """Page numbers to link in a pager: the first, the last and `around` either side of `page`; None marks a gap
    (a list of 8,000 pages links 7 of them, not 8,000)."""
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    out: list[int | None] = []
    for p in shown:
        if out and p - (out[-1] or 0) > 1:
            out.append(None)
        out.append(p)
    return out


def unread_notifications(session: Session, username: str) -> int:
    """Unread notifications of the user (0 while the notifications module is not installed)."""
    try:
        from oa import notifications
    except ImportError:
        return 0
    counter = getattr(notifications, "unread_count", None)
    return int(counter(session, username)) if counter else 0


def is_overdue(task: Task, now: datetime | None = None) -> bool:
    """True if the open task is past its due time."""
    return bool(task.due_at and task.status == "open" and task.due_at < (now or utcnow()))


def definition_xml(session: Session, definition: ProcessDefinition) -> bytes | None:
    """The BPMN bytes a definition version was deployed from."""
    return session.scalar(select(DeploymentFile.content).where(
        DeploymentFile.deployment_id == definition.deployment_id, DeploymentFile.name == definition.bpmn_file))


@dataclass
class Graph:
    """The flow graph of one BPMN process: node kinds and sequence flows."""

    kinds: dict[str, str]
    flows: dict[str, tuple[str, str]]


def process_graph(xml: bytes, key: str) -> Graph:
    """Nodes and flows of process `key` in the XML (empty if it cannot be read)."""
    try:
        tree = parse_xml(xml, f"{key}.bpmn")
    except Exception:  # a stored file that no longer parses: no graph, the page still shows history
        return Graph({}, {})
    kinds: dict[str, str] = {}
    flows: dict[str, tuple[str, str]] = {}
    for process in tree.getroot().iter(f"{{{BPMN_NS}}}process"):
        if process.get("id") != key:
            continue
        for node in process.iter():
            if not isinstance(node.tag, str) or not node.get("id"):
                continue
            local = etree.QName(node).localname
            if local == "sequenceFlow":
                flows[node.get("id")] = (node.get("sourceRef") or "", node.get("targetRef") or "")
            elif node.getparent() is not None and etree.QName(node.getparent()).localname in (
                    "process", "subProcess"):
                kinds[node.get("id")] = local
    return Graph(kinds, flows)


def finished_path(graph: Graph, history: list[HistoryEvent], active: list[str], status: str,
                  error_element: str | None = None) -> tuple[set[str], set[str]]:
    """(completed element ids, completed flow ids) of an instance.

    Starts from what history records (completed tasks, passed gateways, fired timers, received
    messages), adds start events, then follows flows into elements that never wait (script/service
    tasks, end events...) from a completed element — through a gateway only along the branch it took.
    """
    done: set[str] = set()
    taken: dict[str, set[str]] = {}
    for event in history:
        if event.type in DONE_EVENTS and event.element_id:
            done.add(event.element_id)
            if event.type == "gateway_passed" and isinstance(event.data, dict):
                taken.setdefault(event.element_id, set()).update(event.data.get("taken") or [])
    active_set = set(active or [])
    if history:
        done.update(n for n, k in graph.kinds.items() if k == "startEvent"
                    and not any(t == n for _, t in graph.flows.values()))
    blocked = active_set | ({error_element} if error_element else set())
    changed = True
    while changed:
        changed = False
        for source, target in graph.flows.values():
            if source not in done or target in done or target in blocked:
                continue
            if graph.kinds.get(source, "").endswith("Gateway") and source in taken and target not in taken[source]:
                continue
            if graph.kinds.get(target) in AUTOMATIC:
                if graph.kinds.get(target) == "endEvent" and status not in ("completed",):
                    continue
                done.add(target)
                changed = True
    flows = set()
    for fid, (source, target) in graph.flows.items():
        if source in done and (target in done or target in active_set or target == error_element):
            if graph.kinds.get(source, "").endswith("Gateway") and source in taken and target not in taken[source]:
                continue
            flows.add(fid)
    return done, flows


@dataclass
class ElementChange:
    """One element that differs between two versions."""

    element_id: str
    kind: str
    change: str  # added | removed | changed
    before: dict
    after: dict


def _elements(xml: bytes | None) -> dict[str, tuple[str, dict]]:
    if not xml:
        return {}
    try:
        tree = parse_xml(xml, "definition.bpmn")
    except Exception:  # unreadable: compare as empty
        return {}
    out: dict[str, tuple[str, dict]] = {}
    for node in tree.getroot().iter():
        if not isinstance(node.tag, str) or not node.get("id"):
            continue
        qname = etree.QName(node)
        if qname.namespace != BPMN_NS:
            continue
        attrs = {etree.QName(k).localname if k.startswith("{") else k: v for k, v in node.attrib.items()}
        text_parts = [c.text.strip() for c in node if isinstance(c.tag, str) and c.text and c.text.strip()
                      and etree.QName(c).localname in ("script", "conditionExpression", "timeDuration",
                                                        "timeDate", "timeCycle", "documentation")]
        if text_parts:
            attrs["(body)"] = " | ".join(text_parts)
        props = [f"{p.get('name')}={p.get('value')}" for p in node.iter()
                 if isinstance(p.tag, str) and etree.QName(p).localname == "property" and p.get("name")]
        if props:
            attrs["(properties)"] = ", ".join(props)
        out[node.get("id")] = (qname.localname, attrs)
    return out


def diff_versions(old_xml: bytes | None, new_xml: bytes | None) -> list[ElementChange]:
    """Elements added, removed or changed (name, attributes, scripts/conditions) from old to new."""
    old, new = _elements(old_xml), _elements(new_xml)
    changes = []
    for eid in sorted(set(old) | set(new)):
        if eid not in old:
            changes.append(ElementChange(eid, new[eid][0], "added", {}, new[eid][1]))
        elif eid not in new:
            changes.append(ElementChange(eid, old[eid][0], "removed", old[eid][1], {}))
        elif old[eid] != new[eid]:
            before, after = old[eid][1], new[eid][1]
            keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
            changes.append(ElementChange(eid, new[eid][0], "changed", {k: before.get(k) for k in keys},
                                         {k: after.get(k) for k in keys}))
    return changes


def history(session: Session, instance_id: int) -> list[HistoryEvent]:
    """An instance's history events, oldest first."""
    return list(session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id)
                                .order_by(HistoryEvent.id)))


def start_meta(d: ProcessDefinition) -> ElementMeta | None:
    """The start event of a definition that has a start form (None when it has none)."""
    for raw in d.elements.values():
        meta = ElementMeta.from_dict(raw)
        if meta.kind == "startEvent" and meta.form:
            return meta
    return None
