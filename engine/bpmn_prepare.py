"""Before SpiffWorkflow parses a BPMN tree: XSD validation that reports every error, and a working copy made
friendlier to designs drawn in Camunda Modeler (see engine.parsing's docstring for what changes)."""

from __future__ import annotations

import re

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from engine.bpmn_syntax import BPMN_NS, CAMUNDA_NS, NS, SPIFF_NS, normalize_condition, normalize_timer
from engine.problems import Problem


class XsdInvalid(ValidationException):
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
        raise XsdInvalid(problems)


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


def validator() -> _CollectingValidator:
    """The one collecting validator (the XSD is loaded once)."""
    global _VALIDATOR
    if _VALIDATOR is None:
        _VALIDATOR = _CollectingValidator()
    return _VALIDATOR


def preprocess(tree: etree._ElementTree, filename: str) -> list[Problem]:
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
