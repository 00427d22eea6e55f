"""A flow's own labels in other languages: the `<process key>.i18n.json` file deployed with the process.

The file maps each language to a table from the English text the flow shows (element names, the other labels its
diagram draws such as sequence flows and lanes, form titles, field titles, enum values and enum titles, the
process name) to its translation:

    {"zh-CN": {"Leave request": "请假申请", "Manager approval": "经理审批", "annual": "年假"}}

It is checked at deployment (`check`), stored with the definition version it was deployed with
(`ProcessDefinition.labels`, see `labels_for`) together with the names of every flow node, so pages can show an
element's name instead of its id and translate it in the reader's language. Sizes are capped.
"""

from __future__ import annotations

import json
from typing import Any

from engine.problems import Problem

SUFFIX = ".i18n.json"
LANGUAGES = ("zh-CN",)
MAX_BYTES = 256 * 1024
MAX_ENTRIES = 5000
MAX_TEXT = 1000


def key_of(filename: str) -> str | None:
    """The process key a translations file is for (`leave_request.i18n.json` → `leave_request`), else None."""
    if not filename.lower().endswith(SUFFIX):
        return None
    return filename[: -len(SUFFIX)] or None


def parse(name: str, content: bytes) -> tuple[dict[str, dict[str, str]], list[Problem]]:
    """The language → (English → translation) tables of a translations file, and every problem with it."""
    if len(content) > MAX_BYTES:
        return {}, [Problem(file=name, message=f"translations file is larger than {MAX_BYTES // 1024} KiB")]
    try:
        data: Any = json.loads(content)
    except (ValueError, UnicodeDecodeError) as err:
        return {}, [Problem(file=name, message=f"not valid JSON: {err}")]
    if not isinstance(data, dict):
        return {}, [Problem(file=name, message='must be an object like {"zh-CN": {"English text": "译文"}}')]
    problems: list[Problem] = []
    tables: dict[str, dict[str, str]] = {}
    for lang, table in data.items():
        if lang not in LANGUAGES:
            problems.append(Problem(file=name, message=f"unknown language {str(lang)[:40]!r}: use one of "
                                                       f"{', '.join(LANGUAGES)}"))
            continue
        if not isinstance(table, dict):
            problems.append(Problem(file=name, message=f"{lang}: must be an object of English text → translation"))
            continue
        if len(table) > MAX_ENTRIES:
            problems.append(Problem(file=name, message=f"{lang}: at most {MAX_ENTRIES} entries"))
            continue
        clean: dict[str, str] = {}
        for source, text in table.items():
            if not isinstance(text, str) or not text.strip():
                problems.append(Problem(file=name, message=f"{lang}: {source[:80]!r} needs a non-empty text"))
            elif not source.strip() or len(source) > MAX_TEXT or len(text) > MAX_TEXT:
                problems.append(Problem(file=name, message=f"{lang}: {source[:80]!r}: texts are 1 to {MAX_TEXT} "
                                                           "characters"))
            else:
                clean[source] = text
        tables[lang] = clean
    return tables, problems


def element_names(spec: Any, subprocess_specs: dict | None = None) -> dict[str, str]:
    """Element id → name of every named flow node of a parsed process (and its embedded subprocesses)."""
    names: dict[str, str] = {}
    for one in [spec, *(subprocess_specs or {}).values()]:
        for task_spec in getattr(one, "task_specs", {}).values():
            bpmn_id, bpmn_name = getattr(task_spec, "bpmn_id", None), getattr(task_spec, "bpmn_name", None)
            if bpmn_id and bpmn_name:
                names.setdefault(str(bpmn_id), str(bpmn_name)[:MAX_TEXT])
    return names


def labels_for(names: dict[str, str], tables: dict[str, dict[str, str]]) -> dict[str, Any]:
    """What a definition version stores: its element names and its translation tables (empty when none)."""
    return {"names": names, "translations": tables}


def texts_of_form(node: Any, out: set[str]) -> None:
    """The texts a form shows: titles (of the form, fields, options), string enum values and their English
    labels (`enumNames`)."""
    if isinstance(node, dict):
        if isinstance(node.get("title"), str):
            out.add(node["title"])
        out.update(v for v in node.get("enum") or [] if isinstance(v, str))
        if isinstance(node.get("enumNames"), list):
            out.update(v for v in node["enumNames"] if isinstance(v, str))
        for value in node.values():
            texts_of_form(value, out)
    elif isinstance(node, list):
        for value in node:
            texts_of_form(value, out)


def coverage(name: str, tables: dict[str, dict[str, str]], texts: set[str]) -> list[Problem]:
    """Warnings for a translations file: flow texts without a translation, entries the flow never shows."""
    problems = []
    for lang, table in tables.items():
        missing = sorted(t for t in texts if t not in table)
        unused = sorted(t for t in table if t not in texts)
        if missing:
            problems.append(Problem(file=name, severity="warning", message=f"{lang}: {len(missing)} text(s) of the "
                                    f"flow without a translation: {', '.join(repr(t[:60]) for t in missing[:10])}"))
        if unused:
            problems.append(Problem(file=name, severity="warning", message=f"{lang}: {len(unused)} entr(y/ies) the "
                                    f"flow never shows: {', '.join(repr(t[:60]) for t in unused[:10])}"))
    return problems

