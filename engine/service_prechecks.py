"""Service-task prechecks: what a flow's operations will write to is judged when the instance starts.

A designer flow may pass start data straight to a writing operation (`customer_id = cid`, `user = who`). The
operation checks again when it runs, but a refusal then is an incident after people approved for nothing. So
at start, for every service task of the process (and its subprocesses) whose operation registered a
`precheck`, the parameters whose expression is a start variable's name, `initiator` or a literal are handed to
the precheck with their values; each problem it reports is a 422 naming the start field (or, for a literal,
`<element id>/<parameter>`), and nothing is written.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from engine.errors import InvalidData
from engine.services import ServiceRegistry

_UNKNOWN = object()


def _service_tasks(loaded: Any) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(element id, operation name, operation params) of every service task in the process and subprocesses."""
    specs = [loaded.spec, *getattr(loaded, "subprocess_specs", {}).values()]
    for spec in specs:
        for task_spec in getattr(spec, "task_specs", {}).values():
            name = getattr(task_spec, "operation_name", None)
            if isinstance(name, str):
                yield (getattr(task_spec, "bpmn_id", None) or task_spec.name, name,
                       getattr(task_spec, "operation_params", None) or {})


def _known(expression: Any, variables: dict[str, Any], username: str) -> tuple[Any, str | None]:
    """(value, start field) of a parameter expression whose value is known at start; (_UNKNOWN, None) else."""
    if not isinstance(expression, str):
        return _UNKNOWN, None
    text = expression.strip()
    if text.isidentifier():
        if text == "initiator":
            return username, None
        return (variables[text], text) if text in variables else (_UNKNOWN, None)
    try:
        return ast.literal_eval(text), None
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _UNKNOWN, None


def check_at_start(session: Any, services: ServiceRegistry, loaded: Any, variables: dict[str, Any],
                   username: str) -> None:
    """422 naming the start field for each value a service task of the flow would refuse to write with."""
    problems: list[dict[str, str]] = []
    for element_id, operation, params in _service_tasks(loaded):
        op = services.get(operation)
        if op is None or op.precheck is None:
            continue
        known: dict[str, Any] = {}
        fields: dict[str, str] = {}
        for param, spec in params.items():
            value, field = _known(spec.get("value") if isinstance(spec, dict) else None, variables, username)
            if value is not _UNKNOWN:
                known[param] = value
                fields[param] = field or f"{element_id}/{param}"
        if not known:
            continue
        for param, message in op.precheck(session, username, known):
            entry = {"field": fields.get(param, f"{element_id}/{param}"), "message": message}
            if entry not in problems:
                problems.append(entry)
    if problems:
        raise InvalidData("this flow would write where the starter may not", errors=problems)
