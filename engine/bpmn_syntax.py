"""BPMN vocabulary shared by parsing and validation: namespaces, XML helpers, and Camunda-style expressions
(JUEL conditions, bare ISO 8601 timers, form keys) turned into what SpiffWorkflow evaluates."""

from __future__ import annotations

import json
import re

from lxml import etree

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
    """True if `value` is a bare ISO 8601 duration, date(-time) or repeating interval, or a cron cycle."""
    from engine.timer_cycles import is_cron

    return bool(_ISO_TIMER_RE.match(value.strip())) or is_cron(value.strip())


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
