"""Deployment bundles (BPMN + DMN bytes) into SpiffWorkflow specs plus the metadata oaflow needs.

Every document goes through :func:`engine.xmlsafe.parse_xml`, is validated against the BPMN 2.0 XSD
(every XSD error is reported, not only the last one SpiffWorkflow would keep), and is handed as a
tree to ``SpiffBpmnParser.add_bpmn_xml`` / ``add_dmn_xml``.

Before SpiffWorkflow sees a tree, a *copy* is made friendlier to designs drawn in Camunda Modeler
(the stored XML is never changed):

* bare ISO 8601 timer values (``PT48H``, ``2026-12-01T09:00:00Z``, ``R3/PT10M``) are quoted, since
  SpiffWorkflow evaluates timer values as Python expressions; Python expressions are left alone;
* JUEL conditions and timer expressions written as ``${...}`` / ``#{...}`` are translated to Python
  when they only use simple operators (``&&``, ``||``, ``!``, ``eq``, ``ne``, ``gt``, ``lt``,
  ``ge``, ``le``, ``and``, ``or``, ``not``, ``div``, ``mod``, ``null``, ``true``, ``false``); what
  does not translate is left as is and reported by validation when it does not compile. JUEL
  property access (``order.amount``) is *not* rewritten: in oaflow it is Python attribute access;
* ``camunda:decisionRef`` on a business rule task becomes ``spiffworkflow:calledDecisionId``;
* ``bpmn:dataStore`` declarations (which SpiffWorkflow refuses without a registered implementation)
  are dropped together with the data associations that point at their references; each dropped
  association is a warning, because the process runs without it.

A process without an ``isExecutable`` attribute is treated as executable (SpiffWorkflow's rule).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import asdict, dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.problems import Problem
from engine.xmlsafe import XmlRejected, parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS, "spiffworkflow": SPIFF_NS}

#: element kinds for which ElementMeta is collected
META_KINDS = ("startEvent", "userTask", "manualTask")

_FORM_PREFIX_RE = re.compile(r"^(camunda-forms:|embedded:|deployment:|app:)", re.IGNORECASE)
_STRING_RE = r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
_JUEL_RE = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.DOTALL)
_JUEL_REPLACEMENTS = [
    (re.compile(r"&&"), " and "),
    (re.compile(r"\|\|"), " or "),
    (re.compile(r"!(?!=)"), " not "),
    (re.compile(r"\beq\b"), "=="),
    (re.compile(r"\bne\b"), "!="),
    (re.compile(r"\bgt\b"), ">"),
    (re.compile(r"\blt\b"), "<"),
    (re.compile(r"\bge\b"), ">="),
    (re.compile(r"\ble\b"), "<="),
    (re.compile(r"\bdiv\b"), "/"),
    (re.compile(r"\bmod\b"), "%"),
    (re.compile(r"\bnull\b"), "None"),
    (re.compile(r"\btrue\b"), "True"),
    (re.compile(r"\bfalse\b"), "False"),
]
_ISO_TIMER_RE = re.compile(
    r"""^(
        R\d*/[^\s"']+                                           # repeating interval
      | -?P(?=[\dT])[\dYMWDTHS.,]*                              # duration
      | \d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?)?  # date / date-time
      | \d{4}-?W\d{2}-?\d(T[^\s"']+)?                           # week date
    )$""",
    re.VERBOSE,
)


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

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ElementMeta:
        """Inverse of :meth:`to_dict` (unknown keys are ignored)."""
        known = {f: d.get(f) for f in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class ParsedProcess:
    """One deployable (top-level, executable) process of a bundle."""

    key: str
    name: str | None
    file: str
    spec: BpmnProcessSpec
    subprocess_specs: dict
    elements: dict[str, ElementMeta]
    message_starts: list[str] = field(default_factory=list)
    timer_start: bool = False


@dataclass
class BundleParse:
    """Everything learned while parsing a bundle; validation builds on it."""

    processes: dict[str, ParsedProcess]
    problems: list[Problem]
    trees: dict[str, etree._ElementTree]  # original (unmodified) BPMN trees by file name
    dmn_trees: dict[str, etree._ElementTree]
    decision_ids: set[str]
    process_files: dict[str, str]  # top-level process id -> file
    parser: SpiffBpmnParser | None = None


# --------------------------------------------------------------------------- expression helpers


def juel_to_python(source: str) -> str:
    """Translate a simple JUEL expression (``${a > 1 && !b}``) to Python; anything else is returned as is."""
    if source is None:
        return source
    match = _JUEL_RE.match(source)
    if match is None:
        return source
    parts = re.split(_STRING_RE, match.group(1))
    for i in range(0, len(parts), 2):  # even indexes are outside string literals
        text = parts[i]
        for pattern, replacement in _JUEL_REPLACEMENTS:
            text = pattern.sub(replacement, text)
        parts[i] = text
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def is_iso_timer_literal(value: str) -> bool:
    """True if `value` is a bare ISO 8601 duration, date(-time) or repeating interval."""
    return bool(_ISO_TIMER_RE.match(value.strip()))


def normalize_timer(source: str | None) -> str | None:
    """Make a timer value a Python expression: quote bare ISO 8601, translate JUEL, keep the rest."""
    if source is None:
        return None
    value = source.strip()
    if _JUEL_RE.match(value):
        inner = _JUEL_RE.match(value).group(1).strip()
        if is_iso_timer_literal(inner):
            return json.dumps(inner)
        return juel_to_python(value)
    if is_iso_timer_literal(value):
        return json.dumps(value)
    return source


def normalize_condition(source: str | None) -> str | None:
    """The Python form of a sequence-flow condition as oaflow hands it to SpiffWorkflow."""
    if source is None:
        return None
    return juel_to_python(source.strip())


def strip_form_prefix(value: str | None) -> str | None:
    """``embedded:deployment:leave.json`` -> ``leave.json``."""
    if value is None:
        return None
    value = value.strip()
    while True:
        stripped = _FORM_PREFIX_RE.sub("", value, count=1)
        if stripped == value:
            return value or None
        value = stripped


def local_name(node: etree._Element) -> str:
    """The tag without its namespace."""
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def spiff_properties(node: etree._Element) -> dict[str, str]:
    """``spiffworkflow:properties/property`` name -> value of an element."""
    props = {}
    for prop in node.xpath(
        "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS
    ):
        if prop.get("name") is not None:
            props[prop.get("name")] = prop.get("value")
    return props


# --------------------------------------------------------------------------- XSD validation


class _XsdInvalid(ValidationException):
    """Raised by the collecting validator; carries every XSD problem."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].message if problems else "XSD validation failed")
        self.problems = problems


class _CollectingValidator(BpmnValidator):
    """A BpmnValidator that reports every XSD error (the stock one keeps only the last)."""

    def validate(self, bpmn, filename=None):  # noqa: D102 - same contract as BpmnValidator.validate
        self.preprocess(bpmn)
        if self.validator.validate(bpmn):
            return
        problems = []
        for error in self.validator.error_log:
            problems.append(_xsd_problem(bpmn, error, filename or ""))
        raise _XsdInvalid(problems)


def _xsd_problem(tree, error, filename: str) -> Problem:
    element_id = None
    root = tree.getroot() if hasattr(tree, "getroot") else tree
    try:
        nsmap = {k: v for k, v in root.nsmap.items() if k}
        found = tree.xpath(error.path, namespaces=nsmap) if error.path else []
        if found and isinstance(found[0], etree._Element):
            element_id = found[0].get("id")
    except etree.XPathError:
        found = []
    if element_id is None and error.line:
        for node in root.iter():
            if isinstance(node.tag, str) and node.sourceline == error.line and node.get("id"):
                element_id = node.get("id")
                break
    message = error.message
    dup = re.search(r"attribute 'id': '([^']*)' is not a valid value of the atomic type 'xs:ID'", message)
    if dup:
        element_id = dup.group(1)
        message = f"duplicate or invalid id {dup.group(1)!r} (ids must be unique XML names)"
    else:
        message = re.sub(r"\{" + re.escape(BPMN_NS) + r"\}", "bpmn:", message)
        message = f"not valid BPMN 2.0 (XSD): {message}"
    return Problem(file=filename, message=message, element_id=element_id, line=error.line or None)


_VALIDATOR: _CollectingValidator | None = None


def _validator() -> _CollectingValidator:
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = _CollectingValidator()
    return _VALIDATOR


# --------------------------------------------------------------------------- preprocessing


def _preprocess(tree: etree._ElementTree, filename: str) -> list[Problem]:
    """Make a working copy friendlier to SpiffWorkflow (see module docstring). Returns warnings."""
    warnings: list[Problem] = []
    root = tree.getroot()
    for tag in ("timeDate", "timeDuration", "timeCycle"):
        for node in root.iter(f"{{{BPMN_NS}}}{tag}"):
            if node.text is not None:
                node.text = normalize_timer(node.text)
    for node in root.iter(f"{{{BPMN_NS}}}conditionExpression"):
        if node.text is not None:
            node.text = normalize_condition(node.text)

    for task in root.iter(f"{{{BPMN_NS}}}businessRuleTask"):
        ref = task.get(f"{{{CAMUNDA_NS}}}decisionRef")
        if ref and not task.xpath("./bpmn:extensionElements/spiffworkflow:calledDecisionId", namespaces=NS):
            ext = task.find(f"{{{BPMN_NS}}}extensionElements")
            if ext is None:
                ext = etree.Element(f"{{{BPMN_NS}}}extensionElements")
                task.insert(0, ext)
            etree.SubElement(ext, f"{{{SPIFF_NS}}}calledDecisionId").text = ref

    stores = {s.get("id"): s for s in root.iter(f"{{{BPMN_NS}}}dataStore")}
    if stores:
        store_refs = {r.get("id"): r for r in root.iter(f"{{{BPMN_NS}}}dataStoreReference")}
        for assoc_tag, ref_tag in (
            ("dataInputAssociation", "sourceRef"),
            ("dataOutputAssociation", "targetRef"),
        ):
            for assoc in list(root.iter(f"{{{BPMN_NS}}}{assoc_tag}")):
                refs = [r.text.strip() for r in assoc.findall(f"{{{BPMN_NS}}}{ref_tag}") if r.text]
                if any(r in store_refs for r in refs):
                    owner = assoc.getparent()
                    store_ref = store_refs[next(r for r in refs if r in store_refs)]
                    warnings.append(
                        Problem(
                            file=filename,
                            element_id=owner.get("id"),
                            line=assoc.sourceline,
                            severity="warning",
                            message=(
                                "data association with data store "
                                f"{store_ref.get('name') or store_ref.get('id')!r}"
                                " is ignored: oaflow has no data store implementations"
                            ),
                        )
                    )
                    owner.remove(assoc)
        for store in stores.values():
            store.getparent().remove(store)
    return warnings


# --------------------------------------------------------------------------- problems from exceptions


def _index_ids(trees: dict[str, etree._ElementTree]) -> dict[str, tuple[str, int | None]]:
    index: dict[str, tuple[str, int | None]] = {}
    for fname, tree in trees.items():
        for node in tree.getroot().iter():
            if isinstance(node.tag, str) and node.get("id") is not None:
                index.setdefault(node.get("id"), (fname, node.sourceline))
    return index


def problem_from_exception(
    exc: Exception, default_file: str, ids: dict[str, tuple[str, int | None]], element_id: str | None = None
) -> Problem:
    """Turn a SpiffWorkflow ValidationException (or anything else) into a Problem with file/id/line."""
    if isinstance(exc, ValidationException):
        message = str(exc.args[0]) if exc.args else "invalid model"
        eid = getattr(exc, "id", None) or element_id
        file = getattr(exc, "file_name", None) or None
        line = getattr(exc, "line_number", None)
    else:
        message = f"{type(exc).__name__}: {exc}"
        eid, file, line = element_id, None, None
    message = re.sub(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-fA-F]+>", r"(\1)", message)
    message = message.strip().rstrip(".").strip() or "invalid model"
    if eid and eid in ids:
        id_file, id_line = ids[eid]
        file = file or id_file
        if not isinstance(line, int) or not line:
            line = id_line
    if not isinstance(line, int) or not line:
        line = None
    return Problem(file=file or default_file, message=message, element_id=eid or None, line=line)


# --------------------------------------------------------------------------- metadata


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

    form = props.get("formJsonSchemaFilename") or strip_form_prefix(cam("formKey"))
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
    )


def _lanes(tree: etree._ElementTree) -> dict[str, str | None]:
    lanes: dict[str, str | None] = {}
    for ref in tree.getroot().iter(f"{{{BPMN_NS}}}flowNodeRef"):
        if ref.text:
            lanes[ref.text.strip()] = ref.getparent().get("name")
    return lanes


def _process_elements(process: etree._Element, lanes: dict[str, str | None]) -> dict[str, ElementMeta]:
    found = {}
    for kind in META_KINDS:
        for node in process.iter(f"{{{BPMN_NS}}}{kind}"):
            if node.get("id"):
                found[node.get("id")] = element_meta(node, lanes)
    return found


def _message_starts(process: etree._Element) -> list[str]:
    root = process.getroottree().getroot()
    names = {m.get("id"): m.get("name") or m.get("id") for m in root.iter(f"{{{BPMN_NS}}}message")}
    starts = []
    for med in process.xpath("./bpmn:startEvent/bpmn:messageEventDefinition", namespaces=NS):
        ref = med.get("messageRef")
        name = names.get(ref) if ref else med.getparent().get("name")
        if name and name not in starts:
            starts.append(name)
    return starts


# --------------------------------------------------------------------------- the bundle


def _is_executable(process: etree._Element) -> bool:
    return process.get("isExecutable", "true").strip().lower() == "true"


def parse_bundle_detailed(bpmn_files: dict[str, bytes], dmn_files: dict[str, bytes]) -> BundleParse:
    """Parse a bundle and keep the trees and indexes validation needs. Never raises for bad input."""
    problems: list[Problem] = []
    parser = SpiffBpmnParser(validator=_validator())
    trees: dict[str, etree._ElementTree] = {}
    dmn_trees: dict[str, etree._ElementTree] = {}
    process_files: dict[str, str] = {}
    process_nodes: dict[str, etree._Element] = {}
    failed_files: set[str] = set()

    for fname, data in bpmn_files.items():
        try:
            tree = parse_xml(data, fname)
        except XmlRejected as exc:
            problems.append(exc.problem)
            continue
        root = tree.getroot()
        if root.tag != f"{{{BPMN_NS}}}definitions":
            problems.append(
                Problem(
                    fname,
                    f"not a BPMN 2.0 document (root element is <{local_name(root)}>)",
                    line=root.sourceline,
                )
            )
            continue
        trees[fname] = tree
        work = copy.deepcopy(tree)
        try:
            problems.extend(_preprocess(work, fname))
        except Exception as exc:  # pragma: no cover - defensive
            problems.append(Problem(fname, f"could not be prepared: {type(exc).__name__}: {exc}"))
            continue
        ids = _index_ids({fname: tree})
        try:
            parser.add_bpmn_xml(work, filename=fname)
        except _XsdInvalid as exc:
            problems.extend(exc.problems)
            failed_files.add(fname)
            continue
        except Exception as exc:
            problems.append(problem_from_exception(exc, fname, ids))
            failed_files.add(fname)
            continue
        for process in root.findall(f"{{{BPMN_NS}}}process"):
            pid = process.get("id")
            if pid and pid not in process_files:
                process_files[pid] = fname
                process_nodes[pid] = process

    decision_ids: set[str] = set()
    for fname, data in dmn_files.items():
        try:
            tree = parse_xml(data, fname)
        except XmlRejected as exc:
            problems.append(exc.problem)
            continue
        dmn_trees[fname] = tree
        ids = _index_ids({fname: tree})
        before = set(parser.dmn_parsers)
        try:
            parser.add_dmn_xml(tree.getroot(), filename=fname)
            for key in set(parser.dmn_parsers) - before:
                parser.dmn_parsers[key].parse()
                decision_ids.add(key)
        except Exception as exc:
            for key in set(parser.dmn_parsers) - before:
                parser.dmn_parsers.pop(key, None)
            problem = problem_from_exception(exc, fname, ids)
            if not problem.message.lower().startswith("dmn"):
                problem = Problem(
                    problem.file,
                    f"DMN could not be parsed: {problem.message}",
                    problem.element_id,
                    problem.line,
                )
            problems.append(problem)

    ids = _index_ids(trees)
    all_lanes = {fname: _lanes(tree) for fname, tree in trees.items()}

    # Missing call activity targets: SpiffWorkflow reports them without saying where.
    known = set(parser.process_parsers)
    for fname, tree in trees.items():
        if fname in failed_files:
            continue
        for call in tree.getroot().iter(f"{{{BPMN_NS}}}callActivity"):
            called = call.get("calledElement")
            if called and called not in known:
                problems.append(
                    Problem(
                        fname,
                        f"call activity calls process {called!r}, which no file in the deployment defines",
                        call.get("id"),
                        call.sourceline,
                    )
                )

    processes: dict[str, ParsedProcess] = {}
    by_file: dict[str, list[str]] = {}
    for pid, fname in process_files.items():
        by_file.setdefault(fname, []).append(pid)
    for fname in trees:
        if fname in failed_files:
            continue
        pids = by_file.get(fname, [])
        if not pids:
            problems.append(Problem(fname, "the file defines no process"))
            continue
        executable = [p for p in pids if _is_executable(process_nodes[p])]
        if not executable:
            for pid in pids:
                problems.append(
                    Problem(
                        fname,
                        f"process {pid} is not executable (isExecutable is false)",
                        pid,
                        process_nodes[pid].sourceline,
                    )
                )
        for pid in executable:
            parsed = _parse_process(
                parser, pid, fname, process_nodes, process_files, all_lanes, ids, problems
            )
            if parsed is not None:
                processes[pid] = parsed

    return BundleParse(
        processes=processes,
        problems=_dedupe(problems),
        trees=trees,
        dmn_trees=dmn_trees,
        decision_ids=decision_ids,
        process_files=process_files,
        parser=parser,
    )


def _parse_process(
    parser: SpiffBpmnParser,
    pid: str,
    fname: str,
    process_nodes: dict[str, etree._Element],
    process_files: dict[str, str],
    all_lanes: dict[str, dict],
    ids: dict,
    problems: list[Problem],
) -> ParsedProcess | None:
    # SpiffWorkflow keeps a half-built spec after a failure and would hand it out next time, and
    # re-parsing an embedded subprocess registers it twice: undo both on failure.
    keys_before = set(parser.process_parsers)
    unparsed_before = {k for k, p in parser.process_parsers.items() if p.spec is None}
    try:
        spec = parser.get_spec(pid)
        subprocess_specs = parser.get_subprocess_specs(pid)
    except Exception as exc:
        for key in set(parser.process_parsers) - keys_before:
            del parser.process_parsers[key]
        for key in unparsed_before:
            if key in parser.process_parsers:
                parser.process_parsers[key].spec = None
        problems.append(problem_from_exception(exc, fname, ids))
        return None
    node = process_nodes[pid]
    elements = _process_elements(node, all_lanes.get(fname, {}))
    for sub_id in subprocess_specs:
        if sub_id in process_nodes and sub_id != pid:
            sub_file = process_files.get(sub_id, fname)
            for eid, meta in _process_elements(process_nodes[sub_id], all_lanes.get(sub_file, {})).items():
                elements.setdefault(eid, meta)
    timer_start = bool(node.xpath("./bpmn:startEvent/bpmn:timerEventDefinition", namespaces=NS))
    return ParsedProcess(
        key=pid,
        name=node.get("name"),
        file=fname,
        spec=spec,
        subprocess_specs=subprocess_specs,
        elements=elements,
        message_starts=_message_starts(node),
        timer_start=timer_start,
    )


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen = set()
    result = []
    for p in problems:
        key = (p.file, p.element_id, p.message)
        if key not in seen:
            seen.add(key)
            result.append(p)
    return result


def parse_bundle(
    bpmn_files: dict[str, bytes], dmn_files: dict[str, bytes]
) -> tuple[dict[str, ParsedProcess], list[Problem]]:
    """Parse BPMN/DMN bytes into executable processes (by process id) and every problem found.

    Never raises for bad input; processes only reachable as call activities are resolved as
    subprocess specs of their callers.
    """
    result = parse_bundle_detailed(bpmn_files, dmn_files)
    return result.processes, result.problems
