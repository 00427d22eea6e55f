"""Deploying BPMN/DMN/form bundles as versioned definitions, and the per-version spec cache."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from engine import content_hash as hashing
from engine import diagram_i18n, flow_i18n
from engine.errors import DeploymentInvalid, NotFound
from engine.models import Deployment, DeploymentFile, ProcessDefinition
from engine.parsing import ElementMeta, ParsedProcess, parse_bundle
from engine.problems import Problem
from engine.validation import OperationSignature, validate_bundle
from engine.xmlsafe import XmlRejected

KINDS = {".i18n.json": "i18n", ".bpmn": "bpmn", ".bpmn20.xml": "bpmn", ".dmn": "dmn", ".json": "form"}
MAX_FILES = 50


def kind_of(filename: str) -> str | None:
    """`bpmn`, `dmn`, `form` or `i18n` (a flow's translations) from a file name's extension; None if not
    deployable."""
    lower = filename.lower()
    for ext, kind in KINDS.items():
        if lower.endswith(ext):
            return kind
    return None


@dataclass
class Bundle:
    """Uploaded files sorted by kind."""

    bpmn: dict[str, bytes]
    dmn: dict[str, bytes]
    forms: dict[str, bytes]
    i18n: dict[str, bytes] = field(default_factory=dict)  # `<process key>.i18n.json` → content

    @classmethod
    def from_files(cls, files: Mapping[str, bytes]) -> tuple[Bundle, list[Problem]]:
        """Sort files by kind; unknown extensions and duplicate names are problems."""
        bundle, problems = cls({}, {}, {}, {}), []
        if not files:
            problems.append(Problem(file="", message="no files uploaded (send multipart parts named 'files')"))
        if len(files) > MAX_FILES:
            problems.append(Problem(file="", message=f"at most {MAX_FILES} files per deployment"))
        for name, content in files.items():
            kind = kind_of(name)
            if kind is None:
                problems.append(Problem(file=name, message="unsupported file type: use .bpmn, .dmn, .json or "
                                                           ".i18n.json"))
                continue
            getattr(bundle, "forms" if kind == "form" else kind)[name] = content
        if files and not bundle.bpmn and not bundle.dmn and not bundle.forms and not bundle.i18n:
            problems.append(Problem(file="", message="nothing to deploy"))
        return bundle, problems


def _latest_form(session: Session, name: str, kind: str = "form") -> bytes | None:
    row = session.scalar(
        select(DeploymentFile.content)
        .where(DeploymentFile.kind == kind, DeploymentFile.name == name)
        .order_by(DeploymentFile.id.desc())
        .limit(1)
    )
    return row


def validate(session: Session, files: Mapping[str, bytes],
             operations: Mapping[str, OperationSignature]) -> tuple[Bundle, dict[str, ParsedProcess], list[Problem]]:
    """Every problem with an upload, as `POST /deployments/validate` reports them."""
    bundle, problems = Bundle.from_files(files)
    processes, more = validate_bundle(
        bundle.bpmn, bundle.dmn, bundle.forms, operations,
        form_exists=lambda n: _latest_form(session, n) is not None,
        process_exists=lambda k: latest_definition(session, k, lean=True) is not None,
        form_content=lambda n: _latest_form(session, n),
    )
    return bundle, processes, problems + more + _i18n_problems(session, bundle, processes)


def _i18n_problems(session: Session, bundle: Bundle, processes: dict[str, ParsedProcess]) -> list[Problem]:
    """Problems of the uploaded translations files: their content, and a process they belong to."""
    problems: list[Problem] = []
    for name, content in bundle.i18n.items():
        tables, found = flow_i18n.parse(name, content)
        problems += found
        key = flow_i18n.key_of(name)
        proc = processes.get(key or "")
        if proc is not None and not found:
            texts = set(flow_i18n.element_names(proc.spec, proc.subprocess_specs).values())
            texts |= {proc.name} if proc.name else set()
            texts |= _diagram_labels(bundle, proc)
            flow_i18n.texts_of_form(_forms_used(session, proc, bundle), texts)
            problems += flow_i18n.coverage(name, tables, texts)
        if key not in processes:  # translations take effect as part of a definition version
            problems.append(Problem(file=name, message=f"no process {str(key)[:100]!r} in this deployment: upload "
                                                       "<process id>.i18n.json together with the process's BPMN"))
    return problems


def _diagram_labels(bundle: Bundle, proc: ParsedProcess) -> set[str]:
    """The labels the process's diagram draws besides its flow nodes (sequence flows, lanes, its pool)."""
    xml = bundle.bpmn.get(proc.file)
    if xml is None:
        return set()
    try:
        return diagram_i18n.drawn_names(xml, proc.key, proc.file)
    except XmlRejected:  # already reported by the parse
        return set()


def _translations(session: Session, key: str, bundle: Bundle) -> dict[str, dict[str, str]]:
    """The translation tables of process `key`: its file in this upload, else the one deployed last."""
    name = key + flow_i18n.SUFFIX
    raw = bundle.i18n.get(name) or _latest_form(session, name, kind="i18n")
    return flow_i18n.parse(name, raw)[0] if raw is not None else {}


def _forms_used(session: Session, proc: ParsedProcess, bundle: Bundle) -> dict[str, dict]:
    forms: dict[str, dict] = {}
    for meta in proc.elements.values():
        if meta.generated_form is not None and meta.form:
            forms[meta.form] = meta.generated_form
        for name in (meta.form, meta.ui_form):
            if not name or name in forms:
                continue
            raw = bundle.forms.get(name) or _latest_form(session, name)
            if raw is not None:
                forms[name] = json.loads(raw)
    return forms


@dataclass
class DeployResult:
    """What a deployment created: the deployment id and each definition (new or unchanged)."""

    deployment_id: int | None
    definitions: list[ProcessDefinition]
    created: list[bool]
    warnings: list[Problem] = field(default_factory=list)  # problems that did not block the deployment


def deploy(session: Session, files: Mapping[str, bytes], operations: Mapping[str, OperationSignature],
           *, name: str | None = None, user: str | None = None,
           user_exists: Callable[[str], bool] | None = None) -> DeployResult:
    """Validate and store a bundle; changed processes get version n+1, unchanged ones keep theirs (what counts as
    a change: engine.content_hash).

    Raises DeploymentInvalid with every problem if any is an error. Does not commit. With `user_exists` (the
    org chart's), a literal assignee or candidate user who is no active user is a warning naming the element.
    """
    bundle, processes, problems = validate(session, files, operations)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise DeploymentInvalid(errors)
    if user_exists is not None:
        problems = [*problems, *_unknown_people(processes, user_exists)]
    deployment = Deployment(name=name, created_by=user)
    for fname, content in {**bundle.bpmn, **bundle.dmn, **bundle.forms, **bundle.i18n}.items():
        deployment.files.append(DeploymentFile(
            name=fname, kind=kind_of(fname) or "form", content=content,
            sha256=hashlib.sha256(content).hexdigest()))
    definitions, created = [], []
    for key in sorted(processes):
        proc = processes[key]
        forms = _forms_used(session, proc, bundle)
        translations = _translations(session, key, bundle)
        content_hash = hashing.content_hash(proc, bundle.bpmn, bundle.dmn, forms, translations)
        latest = latest_definition(session, key)
        if latest is not None and latest.content_hash == hashing.legacy_hash(proc, bundle.bpmn, bundle.dmn, forms,
                                                                              translations):
            latest.content_hash = content_hash  # deployed before the hash covered only what the process runs from
        if latest is not None and latest.content_hash == content_hash:
            definitions.append(latest)
            created.append(False)
            continue
        session.add(deployment)
        definition = ProcessDefinition(
            key=key, version=(latest.version + 1) if latest else 1, name=proc.name,
            deployment=deployment, bpmn_file=proc.file, content_hash=content_hash,
            elements={k: m.to_dict() for k, m in proc.elements.items()}, forms=forms,
            message_starts=list(proc.message_starts),
            labels=flow_i18n.labels_for(flow_i18n.element_names(proc.spec, proc.subprocess_specs), translations),
        )
        session.add(definition)
        definitions.append(definition)
        created.append(True)
    if any(created) or (not processes and (bundle.forms or bundle.dmn)):  # form/DMN-only uploads are kept too
        session.add(deployment)
    session.flush()
    return DeployResult(deployment.id if deployment.id else None, definitions, created,
                        [p for p in problems if p.severity != "error"])


def _literal_names(raw: str | None) -> list[str]:
    """The names of an assignee/candidateUsers attribute written as plain text (not an expression)."""
    if not raw or "{" in raw:
        return []
    return list(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))


def _unknown_people(processes: Mapping[str, ParsedProcess], user_exists: Callable[[str], bool]) -> list[Problem]:
    """A warning for each literal assignee or candidate user that is no active user: their tasks would go to the
    empty approver (or to the other candidates) at run time."""
    warnings = []
    for proc in processes.values():
        for element_id, meta in sorted(proc.elements.items()):
            for attribute, raw in (("assignee", meta.assignee), ("candidateUsers", meta.candidate_users)):
                for person in _literal_names(raw):
                    if not user_exists(person):
                        warnings.append(Problem(
                            proc.file, f"camunda:{attribute} {person[:100]!r} is no active user: its tasks go to "
                            "the empty approver (OAFLOW_EMPTY_APPROVER) or the other candidates", element_id,
                            None, "warning"))
    return warnings


# what callers that take elements and forms from the spec cache read of a definition row
_LEAN = (defer(ProcessDefinition.elements), defer(ProcessDefinition.forms), defer(ProcessDefinition.message_starts),
         defer(ProcessDefinition.labels))


def latest_definition(session: Session, key: str, *, lean: bool = False) -> ProcessDefinition | None:
    """Highest version of `key`, or None. `lean` leaves the element, form and message columns unread
    until used (for callers that take them from the spec cache)."""
    query = select(ProcessDefinition).where(ProcessDefinition.key == key)
    return session.scalar((query.options(*_LEAN) if lean else query)
                          .order_by(ProcessDefinition.version.desc()).limit(1))


def get_definition(session: Session, key: str, version: int | None = None, *, lean: bool = False) -> ProcessDefinition:
    """The definition `key` at `version` (latest if None); NotFound otherwise. `lean`: as latest_definition."""
    if version is None:
        found = latest_definition(session, key, lean=lean)
    else:
        query = select(ProcessDefinition).where(ProcessDefinition.key == key, ProcessDefinition.version == version)
        found = session.scalar(query.options(*_LEAN) if lean else query)
    if found is None:
        raise NotFound(f"no process definition '{key}'" + (f" version {version}" if version else ""))
    return found


def latest_definitions(session: Session) -> list[ProcessDefinition]:
    """The latest version of every key, ordered by key."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
              .group_by(ProcessDefinition.key).subquery())
    return list(session.scalars(
        select(ProcessDefinition).join(newest, (ProcessDefinition.key == newest.c.key)
                                       & (ProcessDefinition.version == newest.c.v))
        .order_by(ProcessDefinition.key)))


@dataclass
class LoadedSpec:
    """A parsed definition version: the SpiffWorkflow specs, the element metadata, and the definition's
    immutable fields the engine needs on every step (so a step never re-reads the definition row)."""

    spec: object
    subprocess_specs: dict
    elements: dict[str, ElementMeta]
    name: str | None = None
    forms: dict = field(default_factory=dict)
    external_calls: list[str] = field(default_factory=list)  # callees from other deployments
    missing_calls: list[str] = field(default_factory=list)  # ... of which no definition is deployed


def _with_callees(base: LoadedSpec, callees: dict[str, LoadedSpec | None]) -> LoadedSpec:
    """`base` with the specs, elements and forms of the callees resolved from other deployments."""
    subprocess_specs, elements, forms = dict(base.subprocess_specs), dict(base.elements), dict(base.forms)
    missing = []
    for key, callee in callees.items():
        if callee is None:
            missing.append(key)
            continue
        subprocess_specs.setdefault(key, callee.spec)
        for sub_key, sub_spec in callee.subprocess_specs.items():
            subprocess_specs.setdefault(sub_key, sub_spec)
        for eid, meta in callee.elements.items():
            if meta.kind != "startEvent":  # the caller's start form stays the start form
                elements.setdefault(eid, meta)
        for name, form in callee.forms.items():
            forms.setdefault(name, form)
    missing += [m for c in callees.values() if c is not None for m in c.missing_calls if m not in missing]
    return LoadedSpec(base.spec, subprocess_specs, elements, base.name, forms, base.external_calls, missing)


class SpecCache:
    """Parsed specs per definition id (an LRU; a deployed version never changes)."""

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._items: OrderedDict[object, LoadedSpec] = OrderedDict()
        self._lock = threading.Lock()

    def _hit(self, key: object) -> LoadedSpec | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def for_id(self, session: Session, definition_id: int) -> LoadedSpec:
        """The parsed spec of the definition with this id; the row is read only on a miss."""
        hit = self._hit(definition_id)
        if hit is not None and not hit.external_calls:
            return hit
        definition = session.get(ProcessDefinition, definition_id)
        if definition is None:
            raise NotFound(f"no process definition with id {definition_id}")
        return self.get(session, definition)

    def get(self, session: Session, definition: ProcessDefinition, _seen: frozenset[str] = frozenset()) -> LoadedSpec:
        """The parsed spec of `definition`, parsing its deployment's files on a miss.

        Call activities to processes of other deployments bind to the latest deployed version of the
        callee (Camunda's default): the result is cached per caller version and callee versions, so a newly
        deployed callee is picked up by the next load."""
        base = self._base(session, definition)
        if not base.external_calls:
            return base
        seen = _seen | {definition.key}
        callee_defs = {k: latest_definition(session, k, lean=True) for k in base.external_calls if k not in seen}
        cache_key = (definition.id, tuple(sorted((k, d.id if d else None) for k, d in callee_defs.items())))
        hit = self._hit(cache_key)
        if hit is not None:
            return hit
        callees = {k: (self.get(session, d, seen) if d is not None else None) for k, d in callee_defs.items()}
        loaded = _with_callees(base, callees)
        if not _seen:  # a callee calling back (A → B → A, resolved separately) finds A: the depth cap ends it
            loaded.subprocess_specs.setdefault(definition.key, base.spec)
        self._put(cache_key, loaded)
        return loaded

    def _put(self, key: object, loaded: LoadedSpec) -> None:
        with self._lock:
            self._items[key] = loaded
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def _base(self, session: Session, definition: ProcessDefinition) -> LoadedSpec:
        """The definition's own parse (callees of other deployments unresolved)."""
        hit = self._hit(definition.id)
        if hit is not None:
            return hit
        files = session.scalars(select(DeploymentFile).where(
            DeploymentFile.deployment_id == definition.deployment_id)).all()
        bpmn = {f.name: f.content for f in files if f.kind == "bpmn"}
        dmn = {f.name: f.content for f in files if f.kind == "dmn"}
        processes, problems = parse_bundle(bpmn, dmn)
        proc = processes.get(definition.key)
        if proc is None:
            raise NotFound(f"definition {definition.key} v{definition.version} cannot be parsed: "
                           + "; ".join(p.message for p in problems[:3] if p.severity == "error"))
        loaded = LoadedSpec(proc.spec, proc.subprocess_specs, proc.elements, definition.name,
                            dict(definition.forms or {}), list(proc.external_calls))
        self._put(definition.id, loaded)
        return loaded

    def clear(self) -> None:
        """Forget every cached spec."""
        with self._lock:
            self._items.clear()
