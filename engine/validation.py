"""Validate a deployment bundle and report every problem at once.

:func:`validate_bundle` runs :func:`engine.parsing.parse_bundle_detailed` (hardened XML, XSD, the
SpiffWorkflow parser) and then checks the original XML for what SpiffWorkflow either stops at on
the first occurrence or does not notice at all:

* processes without start events, files without an executable process;
* elements SpiffWorkflow cannot run or silently ignores (complex gateways, choreographies,
  compensation and link events, error/escalation start events, which SpiffWorkflow would turn into
  plain start events); conversations are only a warning (they are descriptive);
* exclusive/inclusive gateways that cannot choose, conditions that do not compile, conditions on
  flows leaving activities (ignored by SpiffWorkflow: warning);
* script tasks (and spiff pre/post scripts) that do not compile or are not Python;
* service tasks without a ``spiffworkflow:serviceTaskOperator``, with an unknown operation, unknown
  or missing parameters, or with Camunda implementations (class, delegateExpression, expression,
  external) oaflow does not support;
* timers whose literal value is neither ISO 8601 nor (for timeCycle) cron, or whose expression does not
  compile; form keys naming a web-application page (warning);
* missing or invalid form files, business rule tasks without a provided decision;
* user tasks that look like approvals but have no boolean ``approved`` field (warning, engine.approval_checks).

Expressions and scripts are checked with ``engine.scripting.check_expression`` / ``check_script``
when that module is available, otherwise with :func:`compile`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from lxml import etree

from engine.approval_checks import approval_problems
from engine.bpmn_checks import FileChecker, OperationSignature, bpmn_tag, check_expression, check_script
from engine.bpmn_syntax import META_KINDS, NS
from engine.camunda_forms import MAX_FIELDS
from engine.element_meta import element_meta
from engine.parsing import ParsedProcess, parse_bundle_detailed
from engine.problems import Problem
from forms.limits import MAX_FORM_BYTES, form_size_problems
from forms.validation import reference_problems, unsafe_patterns

__all__ = ["OperationSignature", "check_expression", "check_script", "validate_bundle"]

# SpiffWorkflow messages that the checks below report with better detail.
_COVERED = (
    "Non-default exclusive outgoing sequence flow without condition",
    "A Service Task must have an operator",
    "There is no support implemented",
    "Time Specification Error",
    "No DMN Diagram available",
    "No start event found",
    "Invalid Script Task",
    "Unsupported Catch Event",
)




def _check_forms(
    trees: dict[str, etree._ElementTree], form_files: dict[str, bytes], form_exists: Callable[[str], bool]
) -> list[Problem]:
    problems: list[Problem] = []
    ui_names: set[str] = set()
    for fname, tree in trees.items():
        for kind in META_KINDS:
            for node in tree.getroot().iter(bpmn_tag(kind)):
                meta = element_meta(node, {})
                if meta.generated_form is not None:
                    fields = node.xpath("count(./bpmn:extensionElements/camunda:formData/camunda:formField)",
                                        namespaces=NS)
                    if fields > MAX_FIELDS:
                        problems.append(Problem(fname, f"camunda:formData has {int(fields)} fields; at most "
                                                f"{MAX_FIELDS} are allowed", node.get("id"), node.sourceline))
                    problems.extend(Problem(fname, f"camunda:formData: {m}", node.get("id"), node.sourceline)
                                    for m in form_size_problems(meta.generated_form))
                if meta.app_form_key:
                    problems.append(Problem(
                        fname, f"form key {meta.app_form_key!r} names a web application page: it is kept as "
                        "metadata, oaflow shows no form for it", node.get("id"), node.sourceline, "warning"))
                if meta.ui_form:
                    ui_names.add(meta.ui_form)
                for label, ref in (("form", meta.form), ("UI schema", meta.ui_form)):
                    if label == "form" and meta.generated_form is not None:
                        continue
                    if ref and ref not in form_files and not _exists(form_exists, ref):
                        problems.append(
                            Problem(
                                fname,
                                f"{label} file {ref!r} is neither in the deployment nor already deployed",
                                node.get("id"),
                                node.sourceline,
                            )
                        )
    try:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError
    except ImportError:  # pragma: no cover - jsonschema is a dependency
        Draft202012Validator = None  # noqa: N806
    for name, data in form_files.items():
        if len(data) > MAX_FORM_BYTES:
            problems.append(Problem(name, f"the form is {len(data)} bytes; at most {MAX_FORM_BYTES} are allowed"))
            continue
        try:
            doc = json.loads(data)
        except RecursionError:
            problems.append(Problem(name, "not valid JSON: nested too deeply"))
            continue
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(Problem(name, f"not valid JSON: {exc}", line=getattr(exc, "lineno", None)))
            continue
        is_ui = name in ui_names or any(
            s in name.lower() for s in ("uischema", "ui-schema", "ui_schema", ".ui.")
        )
        if is_ui:
            if not isinstance(doc, dict):
                problems.append(Problem(name, "a UI schema must be a JSON object"))
            continue
        if not isinstance(doc, (dict, bool)):
            problems.append(Problem(name, "not a JSON Schema: the document must be an object"))
            continue
        too_big = form_size_problems(doc, len(data))
        if too_big:
            problems.extend(Problem(name, m) for m in too_big)
            continue
        if Draft202012Validator is not None:
            try:
                Draft202012Validator.check_schema(doc)
            except SchemaError as exc:
                where = "/".join(str(p) for p in exc.path) or "(root)"
                problems.append(Problem(name, f"not a valid JSON Schema at {where}: {exc.message}"))
                continue
        problems.extend(Problem(name, f"field {e.field!r}: {e.message}") for e in reference_problems(doc))
        problems.extend(Problem(name, f"field {e.field!r}: {e.message}") for e in unsafe_patterns(doc))
    return problems


def _form_reader(form_files: dict[str, bytes],
                 form_content: Callable[[str], bytes | None]) -> Callable[[str], object | None]:
    """A form's JSON by name, from the upload or else deployed before; None when missing or unreadable."""
    def read(name: str) -> object | None:
        raw = form_files.get(name)
        if raw is None:
            try:
                raw = form_content(name)
            except Exception:
                return None
        if raw is None or len(raw) > MAX_FORM_BYTES:
            return None
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
    return read


def _exists(form_exists: Callable[[str], bool], name: str) -> bool:
    try:
        return bool(form_exists(name))
    except Exception:
        return False


def validate_bundle(
    bpmn_files: dict[str, bytes],
    dmn_files: dict[str, bytes],
    form_files: dict[str, bytes],
    operations: Mapping[str, OperationSignature],
    form_exists: Callable[[str], bool] = lambda n: False,
    process_exists: Callable[[str], bool] = lambda k: False,
    form_content: Callable[[str], bytes | None] = lambda n: None,
) -> tuple[dict[str, ParsedProcess], list[Problem]]:
    """Parse and check a bundle; return the executable processes and every problem found.

    `form_content(name)` returns a form deployed before (for checks that read a form the upload does not carry).
    Never raises for bad input. Problems with severity "error" block deployment.
    """
    result = parse_bundle_detailed(bpmn_files, dmn_files, process_exists)
    own: list[Problem] = []
    for fname, tree in result.trees.items():
        try:
            own.extend(FileChecker(fname, tree, operations or {}, result.decision_ids).run())
        except Exception as exc:  # pragma: no cover - a checker bug must not hide the other problems
            own.append(Problem(fname, f"could not be checked: {type(exc).__name__}: {exc}"))
    own.extend(_check_forms(result.trees, form_files or {}, form_exists))
    form_of = _form_reader(form_files or {}, form_content)
    for fname, tree in result.trees.items():
        own.extend(approval_problems(fname, tree, form_of))

    files_with_own_errors = {p.file for p in own if p.severity == "error"}
    problems = [
        p for p in result.problems if not (p.file in files_with_own_errors and p.message.startswith(_COVERED))
    ]
    seen = {(p.file, p.element_id, p.message) for p in problems}
    for p in own:
        if (p.file, p.element_id, p.message) not in seen:
            seen.add((p.file, p.element_id, p.message))
            problems.append(p)
    error_files = {p.file for p in problems if p.severity == "error"}
    processes = {k: v for k, v in result.processes.items() if v.file not in error_files}
    return processes, problems
