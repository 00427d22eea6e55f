"""Validation of submitted data against a JSON Schema form, with errors that name the field."""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
MAX_NAME_LENGTH = 64


def is_declared_name(name: object) -> bool:
    """True for a name a form may declare: any Python identifier (so `客户`, `金额` too), not a keyword,
    not starting with an underscore (private or dunder), at most MAX_NAME_LENGTH characters."""
    return (isinstance(name, str) and 0 < len(name) <= MAX_NAME_LENGTH and name.isidentifier()
            and not name.startswith("_") and not keyword.iskeyword(name))
MAX_DEPTH = 12


@dataclass(frozen=True)
class FieldError:
    """One problem with a submitted field; `field` is a JSON-pointer-like path such as `items/0/amount`."""

    field: str
    message: str

    def to_dict(self) -> dict:
        """JSON-ready form, as problem+json `errors` entries."""
        return {"field": self.field, "message": self.message}


def check_schema(schema: Any) -> str | None:
    """None if `schema` is a usable JSON Schema (2020-12), else why not."""
    if not isinstance(schema, dict):
        return "a form must be a JSON object (a JSON Schema)"
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as err:
        return f"not a valid JSON Schema: {err.message}"
    return None


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()], default=level + 1)
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value], default=level + 1)
    return level


def _non_finite(value: Any, path: str = "") -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return path or "(root)"
    if isinstance(value, dict):
        for k, v in value.items():
            found = _non_finite(v, f"{path}/{k}" if path else str(k))
            if found:
                return found
    if isinstance(value, list):
        for i, v in enumerate(value):
            found = _non_finite(v, f"{path}/{i}" if path else str(i))
            if found:
                return found
    return None


def check_variable_names(data: dict, reserved: set[str] | frozenset[str] = frozenset(),
                         declared: set[str] | frozenset[str] = frozenset()) -> list[FieldError]:
    """Top-level variable names must be plain identifiers, not private and not reserved names.

    Names the form declares may be any non-private Python identifier (Chinese field names such as `金额`);
    undeclared names must be ASCII letters, digits and underscores, starting with a letter."""
    errors = []
    for name in data:
        if isinstance(name, str) and name in declared and is_declared_name(name):
            if name in reserved:
                errors.append(FieldError(name, "this name is reserved by the process and cannot be set"))
            continue
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            errors.append(FieldError(str(name), "variable names must start with a letter and use only "
                                                "letters, digits and underscores"))
        elif name in reserved:
            errors.append(FieldError(name, "this name is reserved by the process and cannot be set"))
    return errors


def validate_data(data: Any, schema: dict | None, reserved: frozenset[str] = frozenset()) -> list[FieldError]:
    """Every problem with `data` against `schema` (None = no form: only the generic checks apply).

    Generic checks: an object, not nested deeper than MAX_DEPTH, no NaN/Infinity, identifier names.
    With a form, fields the form does not declare are refused (they could overwrite process variables).
    """
    if not isinstance(data, dict):
        return [FieldError("variables", "must be a JSON object")]
    if _depth(data) > MAX_DEPTH:
        return [FieldError("variables", f"nested deeper than {MAX_DEPTH} levels")]
    bad_number = _non_finite(data)
    if bad_number:
        return [FieldError(bad_number, "must be a finite number")]
    declared = set(((schema or {}).get("properties") or {}).keys()) if isinstance(schema, dict) else set()
    errors = check_variable_names(data, reserved, declared)
    if schema is None:
        return errors
    if schema.get("additionalProperties", False) is False:
        for name in data:
            if name not in declared and isinstance(name, str) and _IDENTIFIER.match(name):
                errors.append(FieldError(name, "is not a field of this form"))
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = "/".join(str(p) for p in err.absolute_path)
        if err.validator == "required" and isinstance(err.instance, dict):
            missing = [r for r in err.validator_value if r not in err.instance]
            for name in missing:
                errors.append(FieldError(f"{path}/{name}" if path else name, "is required"))
            continue
        if err.validator == "additionalProperties" and not path:
            continue  # reported above, one error per unknown field
        errors.append(FieldError(path or "variables", _option_message(err) or err.message))
    return errors


def _option_message(err: Any) -> str | None:
    """SpiffArena's option lists (`anyOf`/`oneOf` of `{"const": ..., "title": ...}`) named by their options."""
    options = err.validator_value if err.validator in ("anyOf", "oneOf") else None
    if not isinstance(options, list) or not options:
        return None
    if not all(isinstance(o, dict) and "const" in o for o in options):
        return None
    shown = [repr(o["const"]) + (f" ({o['title']})" if isinstance(o.get("title"), str) else "") for o in options[:20]]
    return "must be one of: " + ", ".join(shown) + (", ..." if len(options) > 20 else "")


def reference_problems(schema: Any) -> list[FieldError]:
    """Deploy-time check of a form's typed record references (`x-oaflow-ref`, see forms/references.py):
    an unknown record type, state or access level is a problem naming the field."""
    from forms.references import registry
    return [FieldError(name, message) for name, message in registry.declaration_problems(schema)]
