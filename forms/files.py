"""File fields of a form: a property marked `"x-oaflow-file": true` holds the id of an uploaded attachment.

The marker sits on an integer property at the top level or in the object items of a top-level array
(`items/<n>/receipt`). The platform checks that each named id is a pending upload of the acting user and
attaches it to the instance (see forms/README.md).
"""

from __future__ import annotations

import posixpath
import unicodedata
from collections.abc import Mapping
from typing import Any

MARKER = "x-oaflow-file"


def plain_filename(name: str | None, fallback: str, limit: int = 255) -> str:
    """An uploaded file's name as it may be stored and shown: no folders, NFC, and only printable characters -
    control and format characters go, the bidirectional overrides among them (U+202E shows "\u202egpj.exe"
    as "exe.jpg"); `fallback` when nothing is left."""
    base = posixpath.basename((name or "").replace("\\", "/"))
    base = "".join(c for c in unicodedata.normalize("NFC", base) if c.isprintable()).strip()
    return base[:limit] or fallback


def is_file_field(schema: Any) -> bool:
    """True for a property schema carrying the file marker."""
    return isinstance(schema, Mapping) and schema.get(MARKER) is True


def file_values(schema: Any, data: Mapping[str, Any] | None) -> list[tuple[str, int]]:
    """(field path, attachment id) of every file field filled in `data` under `schema`."""
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(props, Mapping) or not isinstance(data, Mapping):
        return []
    out: list[tuple[str, int]] = []
    for name, sub in props.items():
        value = data.get(name)
        if is_file_field(sub) and _is_id(value):
            out.append((name, value))
        items = sub.get("items") if isinstance(sub, Mapping) else None
        item_props = items.get("properties") if isinstance(items, Mapping) else None
        if isinstance(item_props, Mapping) and isinstance(value, list):
            for n, row in enumerate(value):
                if not isinstance(row, Mapping):
                    continue
                for col, col_schema in item_props.items():
                    if is_file_field(col_schema) and _is_id(row.get(col)):
                        out.append((f"{name}/{n}/{col}", row[col]))
    return out


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 2**31 - 1
