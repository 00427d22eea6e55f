"""HTML forms from a JSON Schema + UI schema, and the submitted form data back into typed JSON.

Fields are named by their JSON-pointer-like path (`days`, `items/0/amount`) prefixed with `v:`, so
the engine's validation errors ([{field, message}]) land on the input they name. Only the shape of
the data is handled here (strings to numbers/booleans, rows of line items); every rule — required,
ranges, enums — is checked by the engine against the same schema.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from api.web.common.error_text import FieldMessage, field_error_text, from_engine
from forms.patterns import pattern_problem

PREFIX = "v:"
FILE_PREFIX = "file:"
PICKABLE = {"crm.customer", "crm.opportunity", "crm.contract", "crm.order"}  # record pickers: approvals/pickers.py
_ROW = re.compile(r"^(\d{1,4})/")
MAX_ROWS = 200


@dataclass
class Field:
    """One input to render: its path, kind (text, textarea, number, date, select, boolean, rows, ...)."""

    path: str
    name: str
    kind: str
    title: str
    required: bool = False
    value: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    help: str | None = None
    columns: list[Field] = field(default_factory=list)  # for rows: the column template (path has `__i__`)
    rows: list[list[Field]] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)  # for nested objects
    error: str | None = None
    filename: str | None = None  # for a file field holding an upload: the file's own name (see form_files)

    @property
    def input_name(self) -> str:
        """The HTML name of the input."""
        return PREFIX + self.path

    @property
    def file_name(self) -> str:
        """The HTML name of a file field's file input (its id stays in `input_name`)."""
        return FILE_PREFIX + self.path

    @property
    def sum_column(self) -> str | None:
        """For line items: the money column whose total is shown while typing (an `amount` column)."""
        return next((c.name for c in self.columns if c.kind == "number" and c.name == "amount"), None)


def _ordered(props: dict, ui: dict) -> list[str]:
    order = ui.get("ui:order") if isinstance(ui, dict) else None
    names = list(props)
    if isinstance(order, list):
        head = [n for n in order if n in props]
        names = head + [n for n in names if n not in head]
    return names


def _type(schema: dict) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind or ("string" if "enum" in schema else "object" if "properties" in schema else "string")


def build_fields(schema: dict | None, ui: dict | None, values: dict | None, errors: dict[str, str],
                 base: str = "") -> list[Field]:
    """The fields of `schema` (an object schema), filled with `values` and marked with `errors` by path."""
    if not isinstance(schema, dict):
        return []
    props = schema.get("properties") or {}
    ui = ui if isinstance(ui, dict) else {}
    values = values if isinstance(values, dict) else {}
    required = set(schema.get("required") or [])
    out = []
    for name in _ordered(props, ui):
        sub = props[name] if isinstance(props[name], dict) else {}
        sub_ui = ui.get(name) if isinstance(ui.get(name), dict) else {}
        if sub_ui.get("ui:widget") == "hidden":
            continue
        path = f"{base}/{name}" if base else name
        out.append(_field(name, path, sub, sub_ui, values.get(name), name in required, errors))
    return out


def form_defaults(schema: dict | None) -> dict:
    """The `default` of each top-level field of `schema` (a Camunda field's defaultValue): what a new form shows."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return {}
    return {name: sub["default"] for name, sub in props.items() if isinstance(sub, dict) and "default" in sub}


def _field(name: str, path: str, schema: dict, ui: dict, value: Any, required: bool,
           errors: dict[str, str]) -> Field:
    kind = _type(schema)
    title = ui.get("ui:title") or schema.get("title") or name
    f = Field(path=path, name=name, kind="text", title=title,
              required=required, value=value, help=ui.get("ui:help") or schema.get("description"),
              error=field_error_text(errors.get(path), title))
    widget = ui.get("ui:widget")
    if ui.get("ui:placeholder"):
        f.attrs["placeholder"] = ui["ui:placeholder"]
    if "enum" in schema:
        labels = ui.get("ui:enumNames") or schema.get("enumNames") or []
        f.kind = "radio" if widget == "radio" else "select"
        f.options = [(_text(v), labels[i] if i < len(labels) else _text(v)) for i, v in enumerate(schema["enum"])]
        f.value = _text(value) if value is not None else None
    elif kind == "boolean":
        f.kind = "approve" if widget == "approve" or name == "approved" else "boolean"
        f.value = None if value is None else bool(value)
    elif schema.get("x-oaflow-file") is True:
        f.kind = "file"
        f.value = value if isinstance(value, int) and not isinstance(value, bool) else None
    elif schema.get("x-oaflow-ref") in PICKABLE or schema.get("x-oaflow-ref") == "oa.user":
        f.kind = "ref"
        f.attrs["data-picker"] = schema["x-oaflow-ref"]
        if kind == "integer":
            f.attrs.update({"inputmode": "numeric", "pattern": "[0-9]{1,10}"})
        else:
            f.attrs["maxlength"] = 100
    elif kind in ("number", "integer"):
        f.kind = "number"
        f.attrs["step"] = "1" if kind == "integer" else "any"
        if money(name, schema):
            f.attrs["data-money"] = "1"
        for key, attr in (("minimum", "min"), ("maximum", "max"), ("exclusiveMinimum", "min"),
                          ("exclusiveMaximum", "max")):
            if isinstance(schema.get(key), (int, float)):
                f.attrs[attr] = schema[key]
    elif kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        if _type(items) == "object":
            f.kind = "rows"
            item_ui = ui.get("items") if isinstance(ui.get("items"), dict) else {}
            f.columns = build_fields(items, item_ui, {}, {}, f"{path}/__i__")
            rows = value if isinstance(value, list) and value else [{}]
            f.rows = [build_fields(items, item_ui, row, errors, f"{path}/{i}") for i, row in enumerate(rows)]
            f.attrs["min_rows"] = schema.get("minItems", 0)
        elif "enum" in items:
            f.kind = "multi"
            f.options = [(_text(v), _text(v)) for v in items["enum"]]
            f.value = [_text(v) for v in value] if isinstance(value, list) else []
        else:
            f.kind = "lines"
            f.value = "\n".join(_text(v) for v in value) if isinstance(value, list) else ""
    elif kind == "object":
        f.kind = "object"
        f.children = build_fields(schema, ui, value if isinstance(value, dict) else {}, errors, path)
    else:
        fmt = schema.get("format")
        f.kind = {"date": "date", "date-time": "datetime", "email": "email", "time": "time"}.get(fmt, "text")
        if widget == "textarea" or (f.kind == "text" and (schema.get("maxLength") or 0) > 200):
            f.kind = "textarea"
        if isinstance(schema.get("maxLength"), int):
            f.attrs["maxlength"] = schema["maxLength"]
        if isinstance(schema.get("minLength"), int) and schema["minLength"] > 0:
            f.attrs["minlength"] = schema["minLength"]
        if isinstance(schema.get("pattern"), str) and f.kind == "text" and pattern_problem(schema["pattern"]) is None:
            f.attrs["pattern"] = schema["pattern"]  # one deploy would refuse now is not run in the browser either
        if f.kind == "datetime" and isinstance(value, str):
            f.value = value[:16]
    return f


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def parse_submission(schema: dict | None, form: MultiDict) -> tuple[dict, dict[str, str]]:
    """Typed variables from submitted form data, and conversion errors by field path."""
    errors: dict[str, str] = {}
    values = _parse_object(schema if isinstance(schema, dict) else {}, form, "", errors)
    return values, errors


def _parse_object(schema: dict, form: MultiDict, base: str, errors: dict[str, str]) -> dict:
    out: dict = {}
    for name, sub in (schema.get("properties") or {}).items():
        sub = sub if isinstance(sub, dict) else {}
        path = f"{base}/{name}" if base else name
        value = _parse_value(sub, form, path, errors)
        if value is not None:
            out[name] = value
    return out


def _parse_value(schema: dict, form: MultiDict, path: str, errors: dict[str, str]) -> Any:
    kind = _type(schema)
    key = PREFIX + path
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        if _type(items) == "object":
            indexes = sorted({int(m.group(1)) for k in form if k.startswith(key + "/")
                              for m in [_ROW.match(k[len(key) + 1:])] if m})[:MAX_ROWS]
            rows = []
            for i in indexes:
                row = _parse_object(items, form, f"{path}/{i}", errors)
                if row:
                    rows.append(row)
            present = key + "/__present" in form or bool(indexes)
            return rows if present else None
        if "enum" in items:
            picked = form.getlist(key)
            return [_coerce_enum(items, v) for v in picked] if (picked or key + "/__present" in form) else None
        raw = form.get(key)
        if raw is None:
            return None
        return [line.strip() for line in raw.splitlines() if line.strip()]
    if kind == "object" and "enum" not in schema:
        found = _parse_object(schema, form, path, errors)
        return found or None
    raw = form.get(key)
    if raw is None:
        return None
    raw = raw.strip()
    if raw == "":
        return None
    if "enum" in schema:
        return _coerce_enum(schema, raw)
    if kind == "boolean":
        if raw.lower() in ("true", "1", "yes", "on"):
            return True
        if raw.lower() in ("false", "0", "no", "off"):
            return False
        errors[path] = FieldMessage("must be yes or no", "type", "boolean")
        return raw  # kept only to show it again: data with errors is never submitted
    if kind in ("number", "integer"):
        try:
            number = float(raw.replace(",", ""))
        except ValueError:
            errors[path] = FieldMessage("must be a number", "type", "number")
            return raw
        if not math.isfinite(number):
            errors[path] = FieldMessage("must be a finite number", "type", "number")
            return raw
        if number.is_integer() and abs(number) < 2**53:
            return int(number)
        if kind == "integer":
            errors[path] = FieldMessage("must be a whole number", "type", "integer")
            return raw
        return number
    return raw


def _coerce_enum(schema: dict, raw: str) -> Any:
    for option in schema.get("enum") or []:
        if _text(option) == raw:
            return option
    return raw  # not an option: the engine's validation names it


def errors_by_field(errors: list[dict] | None) -> dict[str, str]:
    """The engine's [{field, message}] as {path: message} (first message per field)."""
    out: dict[str, str] = {}
    for err in errors or []:
        if isinstance(err, dict):
            out.setdefault(str(err.get("field") or "variables"), from_engine(err))
    return out


def all_paths(items: list[Field]) -> set[str]:
    """The paths of every field (rows and nested objects included), to tell field errors from general ones."""
    out: set[str] = set()
    for f in items:
        out.add(f.path)
        for row in f.rows:
            out |= all_paths(row)
        out |= all_paths(f.children)
    return out


def append_row(values: dict, path: str) -> None:
    """Add an empty row to the top-level line-item list at `path` (the no-JavaScript "add a line" button)."""
    if "/" in path or not path:
        return
    rows = values.get(path)
    values[path] = (rows if isinstance(rows, list) else []) + [{}]


def file_paths(schema: dict | None) -> list[str]:
    """Path templates of the file fields (`x-oaflow-file`): `document`, or `items/*/receipt` in line items."""
    out: list[str] = []
    for name, sub in ((schema or {}).get("properties") or {}).items():
        if not isinstance(sub, dict):
            continue
        if sub.get("x-oaflow-file") is True:
            out.append(name)
        items = sub.get("items") if isinstance(sub.get("items"), dict) else {}
        for col, col_schema in (items.get("properties") or {}).items():
            if isinstance(col_schema, dict) and col_schema.get("x-oaflow-file") is True:
                out.append(f"{name}/*/{col}")
    return out


def file_field_path(schema: dict | None, key: str) -> str | None:
    """The field path a submitted file part `file:<path>` fills, or None if the form has no such file field."""
    if not key.startswith(FILE_PREFIX):
        return None
    path = key[len(FILE_PREFIX):]
    parts = path.split("/")
    for template in file_paths(schema):
        want = template.split("/")
        if len(want) == len(parts) and all(w == p or (w == "*" and p.isdigit() and len(p) <= 4)
                                           for w, p in zip(want, parts, strict=True)):
            return path
    return None


def money(name: str, schema: dict) -> bool:
    """Whether a number field holds money (an `amount` or `total`): shown with 2 decimals."""
    return _type(schema) == "number" and (name in ("amount", "total") or name.endswith("_amount"))
