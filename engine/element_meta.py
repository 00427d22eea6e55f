"""What oaflow reads per start event, user task and manual task from the BPMN XML itself (forms, people,
due date, lane), and per process (message starts, executability)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from lxml import etree

from engine.bpmn_syntax import BPMN_NS, CAMUNDA_NS, META_KINDS, NS, local_name, spiff_properties, strip_form_prefix
from engine.camunda_forms import form_data_schema, generated_form_name, is_app_form_key


@dataclass
@dataclass
class ElementMeta:
    """What oaflow needs per start event / user task / manual task, read from the XML itself."""

    element_id: str
    name: str | None
    kind: str
    lane: str | None = None
    form: str | None = None
    ui_form: str | None = None
    assignee: str | None = None
    candidate_users: str | None = None
    candidate_groups: str | None = None
    due_date: str | None = None
    app_form_key: str | None = None  # a camunda:formKey naming a web application page (kept, not served)
    generated_form: dict | None = field(default=None, compare=False)  # camunda:formData as JSON Schema

    def to_dict(self) -> dict:
        """JSON-ready form (the generated schema is stored with the definition's forms, not here)."""
        out = asdict(self)
        out.pop("generated_form", None)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> ElementMeta:
        """Inverse of :meth:`to_dict` (unknown keys are ignored)."""
        known = {f: d.get(f) for f in cls.__dataclass_fields__}
        return cls(**known)


def _lane_of(node: etree._Element, lanes: dict[str, str | None]) -> str | None:
    current = node
    while current is not None:
        if current.get("id") in lanes:
            return lanes[current.get("id")]
        current = current.getparent()
    return None


def element_meta(node: etree._Element, lanes: dict[str, str | None]) -> ElementMeta:
    """Read oaflow's per-element metadata (forms, assignment, due date, lane) from a BPMN element."""
    props = spiff_properties(node)

    def cam(attr: str) -> str | None:
        value = node.get(f"{{{CAMUNDA_NS}}}{attr}")
        return value if value not in (None, "") else None

    form_key = cam("formKey")
    app_form_key = form_key if is_app_form_key(form_key) else None
    generated = form_data_schema(node)
    form = props.get("formJsonSchemaFilename") or (None if app_form_key else strip_form_prefix(form_key))
    if not form and generated is not None:
        form = generated_form_name(node.get("id") or "")
    return ElementMeta(
        element_id=node.get("id"),
        name=node.get("name"),
        kind=local_name(node),
        lane=_lane_of(node, lanes),
        form=form or None,
        ui_form=props.get("formUiSchemaFilename") or None,
        assignee=cam("assignee") or props.get("assignee") or None,
        candidate_users=cam("candidateUsers") or props.get("candidateUsers") or None,
        candidate_groups=cam("candidateGroups") or props.get("candidateGroups") or None,
        due_date=cam("dueDate") or props.get("dueDate") or None,
        app_form_key=app_form_key,
        generated_form=generated if form and form == generated_form_name(node.get("id") or "") else None,
    )


def lanes_of(tree: etree._ElementTree) -> dict[str, str | None]:
    """Flow node id -> the name of the lane holding it."""
    lanes: dict[str, str | None] = {}
    for ref in tree.getroot().iter(f"{{{BPMN_NS}}}flowNodeRef"):
        if ref.text:
            lanes[ref.text.strip()] = ref.getparent().get("name")
    return lanes


def process_elements(process: etree._Element, lanes: dict[str, str | None]) -> dict[str, ElementMeta]:
    """ElementMeta of the start events and user/manual tasks of a process, by element id."""
    found = {}
    for kind in META_KINDS:
        for node in process.iter(f"{{{BPMN_NS}}}{kind}"):
            if node.get("id"):
                found[node.get("id")] = element_meta(node, lanes)
    return found


def message_starts(process: etree._Element) -> list[str]:
    """Names of the messages that start the process."""
    root = process.getroottree().getroot()
    names = {m.get("id"): m.get("name") or m.get("id") for m in root.iter(f"{{{BPMN_NS}}}message")}
    starts = []
    for med in process.xpath("./bpmn:startEvent/bpmn:messageEventDefinition", namespaces=NS):
        ref = med.get("messageRef")
        name = names.get(ref) if ref else med.getparent().get("name")
        if name and name not in starts:
            starts.append(name)
    return starts


def is_executable(process: etree._Element) -> bool:
    """A process without an isExecutable attribute is executable (SpiffWorkflow's rule)."""
    return process.get("isExecutable", "true").strip().lower() == "true"
