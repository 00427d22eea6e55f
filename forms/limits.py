"""Size caps for a form's JSON Schema, checked at deploy: a schema is stored with every definition version
and sent with every task, so a 4.8 MB option list must be refused where it comes in, naming where it is."""

from __future__ import annotations

import json
from typing import Any

MAX_FORM_BYTES = 256 * 1024  # one form (or UI schema) file, or a generated Camunda form, as JSON text
MAX_OPTIONS = 1000  # entries of one enum / anyOf / oneOf list
MAX_TEXT = 2000  # characters of one string in the schema (a title, a description, an option)
MAX_SCHEMA_DEPTH = 32
_OPTION_LISTS = ("enum", "anyOf", "oneOf")


def form_size_problems(doc: Any, size: int | None = None) -> list[str]:
    """Why the schema `doc` (of `size` bytes when read from a file) is too big; [] when it is within the caps.

    Each problem names the JSON path of the offending list or string; at most 10 are reported."""
    size = size if size is not None else len(json.dumps(doc, ensure_ascii=False).encode())
    if size > MAX_FORM_BYTES:
        return [f"the form is {size} bytes; at most {MAX_FORM_BYTES} are allowed"]
    problems: list[str] = []
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack and len(problems) < 10:
        node, path, depth = stack.pop()
        where = path or "(root)"
        if depth > MAX_SCHEMA_DEPTH:
            problems.append(f"{where}: nested deeper than {MAX_SCHEMA_DEPTH} levels")
            continue
        if isinstance(node, str) and len(node) > MAX_TEXT:
            problems.append(f"{where}: a text of {len(node)} characters; at most {MAX_TEXT} are allowed")
        elif isinstance(node, dict):
            for key in _OPTION_LISTS:
                options = node.get(key)
                if isinstance(options, list) and len(options) > MAX_OPTIONS:
                    problems.append(f"{path}/{key}: {len(options)} options; at most {MAX_OPTIONS} are allowed")
            stack.extend((v, f"{path}/{k}", depth + 1) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{path}/{i}", depth + 1) for i, v in enumerate(node))
    return problems
