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

Sequence flows, boundary attachments and default flows that name no suitable element are reported (with
the attribute and line) by :mod:`engine.flow_refs` before SpiffWorkflow sees the file.

A process without an ``isExecutable`` attribute is treated as executable (SpiffWorkflow's rule).

XSD deviations SpiffWorkflow still builds are warnings (see ``_xsd_relaxed``). Call activities to
processes outside the bundle are left unresolved (``ParsedProcess.external_calls``): the spec cache
binds them to the latest deployed callee (engine.definitions).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask as SubWorkflowTaskMixin
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.bpmn_prepare import XsdInvalid, preprocess, validator
from engine.bpmn_syntax import (
    BPMN_NS,
    CAMUNDA_NS,
    META_KINDS,
    NS,
    SPIFF_NS,
    is_iso_timer_literal,
    juel_to_python,
    local_name,
    normalize_condition,
    normalize_timer,
    spiff_properties,
    strip_form_prefix,
)
from engine.call_recursion import recursion_problems
from engine.element_meta import ElementMeta, element_meta, is_executable, lanes_of, message_starts, process_elements
from engine.external_spec import OaflowBpmnParser
from engine.flow_refs import flow_reference_problems
from engine.problems import Problem
from engine.xmlsafe import XmlRejected, parse_xml

__all__ = ["BPMN_NS", "CAMUNDA_NS", "META_KINDS", "NS", "SPIFF_NS", "BundleParse", "ElementMeta", "ParsedProcess",
           "element_meta", "is_iso_timer_literal", "juel_to_python", "local_name", "normalize_condition",
           "normalize_timer", "parse_bundle", "parse_bundle_detailed", "problem_from_exception",
           "spiff_properties", "strip_form_prefix"]


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
    external_calls: list[str] = field(default_factory=list)  # callees resolved at run time (latest deployed)


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


def _xsd_relaxed(parser: SpiffBpmnParser, work: etree._ElementTree, fname: str,
                 xsd_problems: list[Problem]) -> list[Problem]:
    """XSD deviations SpiffWorkflow itself still builds (element order, missing optional-in-practice
    attributes, as SpiffArena and other modelers write them) become warnings; duplicate ids and anything
    SpiffWorkflow cannot build stay errors."""
    if any("duplicate or invalid id" in p.message for p in xsd_problems):
        return xsd_problems
    saved, parser.validator = parser.validator, None
    keys_before = set(parser.process_parsers)
    try:
        parser.add_bpmn_xml(work, filename=fname)
    except Exception:
        for key in set(parser.process_parsers) - keys_before:
            del parser.process_parsers[key]
        return xsd_problems
    finally:
        parser.validator = saved
    return [Problem(p.file, f"{p.message} (SpiffWorkflow accepts it)", p.element_id, p.line, "warning")
            for p in xsd_problems]


def _safe_exists(exists: Callable[[str], bool], key: str) -> bool:
    try:
        return bool(exists(key))
    except Exception:
        return False


def parse_bundle_detailed(bpmn_files: dict[str, bytes], dmn_files: dict[str, bytes],
                          callee_exists: Callable[[str], bool] = lambda k: False) -> BundleParse:
    """Parse a bundle and keep the trees and indexes validation needs. Never raises for bad input.

    `callee_exists` tells whether a process outside the bundle is deployed (call activities to it are then
    not worth a warning)."""
    problems: list[Problem] = []
    parser = OaflowBpmnParser(validator=validator())
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
        dangling = flow_reference_problems(fname, tree)
        if dangling:  # SpiffWorkflow would stop at the first with a misleading message, or not notice at all
            problems.extend(dangling)
            failed_files.add(fname)
            continue
        work = copy.deepcopy(tree)
        try:
            problems.extend(preprocess(work, fname))
        except Exception as exc:  # pragma: no cover - defensive
            problems.append(Problem(fname, f"could not be prepared: {type(exc).__name__}: {exc}"))
            continue
        ids = _index_ids({fname: tree})
        try:
            parser.add_bpmn_xml(work, filename=fname)
        except XsdInvalid as exc:
            relaxed = _xsd_relaxed(parser, work, fname, exc.problems)
            problems.extend(relaxed)
            if any(p.severity == "error" for p in relaxed):
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
    all_lanes = {fname: lanes_of(tree) for fname, tree in trees.items()}

    # Call activities to processes outside the bundle are resolved at run time against the latest deployed
    # definition (Camunda's default binding): a warning while the callee is not deployed yet.
    known = set(parser.process_parsers)
    for fname, tree in trees.items():
        if fname in failed_files:
            continue
        for call in tree.getroot().iter(f"{{{BPMN_NS}}}callActivity"):
            called = call.get("calledElement")
            if called and called not in known and not _safe_exists(callee_exists, called):
                problems.append(
                    Problem(
                        fname,
                        f"call activity calls process {called!r}, which is neither in the deployment nor "
                        "deployed yet: deploy it before starting this process",
                        call.get("id"),
                        call.sourceline,
                        "warning",
                    )
                )

    problems.extend(recursion_problems(
        {p: n for p, n in process_nodes.items() if process_files[p] not in failed_files}, process_files))

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
        executable = [p for p in pids if is_executable(process_nodes[p])]
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
        subprocess_specs = _subprocess_specs(parser, pid)
    except Exception as exc:
        for key in set(parser.process_parsers) - keys_before:
            del parser.process_parsers[key]
        for key in unparsed_before:
            if key in parser.process_parsers:
                parser.process_parsers[key].spec = None
        problems.append(problem_from_exception(exc, fname, ids))
        return None
    node = process_nodes[pid]
    elements = process_elements(node, all_lanes.get(fname, {}))
    for sub_id in subprocess_specs:
        if sub_id in process_nodes and sub_id != pid:
            sub_file = process_files.get(sub_id, fname)
            for eid, meta in process_elements(process_nodes[sub_id], all_lanes.get(sub_file, {})).items():
                elements.setdefault(eid, meta)
    external_calls = sorted(k for k, v in subprocess_specs.items() if v is None)
    subprocess_specs = {k: v for k, v in subprocess_specs.items() if v is not None}
    timer_start = bool(node.xpath("./bpmn:startEvent/bpmn:timerEventDefinition", namespaces=NS))
    return ParsedProcess(
        key=pid,
        name=node.get("name"),
        file=fname,
        spec=spec,
        subprocess_specs=subprocess_specs,
        elements=elements,
        message_starts=message_starts(node),
        timer_start=timer_start,
        external_calls=external_calls,
    )


def _subprocess_specs(parser: SpiffBpmnParser, pid: str) -> dict:
    """SpiffWorkflow's get_subprocess_specs, with callees outside the bundle as None at every depth."""
    used: dict = {}
    pending = [pid]
    while pending:
        for task_spec in parser.get_spec(pending.pop()).task_specs.values():
            if isinstance(task_spec, SubWorkflowTaskMixin) and task_spec.spec not in used:
                used[task_spec.spec] = parser.get_spec(task_spec.spec, required=False)
                if used[task_spec.spec] is not None:
                    pending.append(task_spec.spec)
    return used


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
