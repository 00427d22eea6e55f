"""Validation of submitted data against a JSON Schema form, with errors that name the field."""

from __future__ import annotations

import json
import keyword
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import regex
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import SchemaError, ValidationError

from forms.patterns import MAX_PATTERN_INPUT, PatternTimeout, budget, pattern_problems, search
from forms.text import unstorable

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
MAX_NAME_LENGTH = 64


def is_declared_name(name: object) -> bool:
    """True for a name a form may declare: any Python identifier (so `客户`, `金额` too), not a keyword,
    not starting with an underscore (private or dunder), at most MAX_NAME_LENGTH characters."""
    return (isinstance(name, str) and 0 < len(name) <= MAX_NAME_LENGTH and name.isidentifier()
            and not name.startswith("_") and not keyword.iskeyword(name))
MAX_DEPTH = 12
# the dates a form field of "format": "date" may hold: what the API's date fields and queries accept, so a stored
# date can always be queried and computed with (leave days, calendars)
DATE_RANGE = (date(1900, 1, 1), date(2999, 12, 31))
MAX_VALUE_BYTES = 256 * 1024  # one variable's value as JSON (a Json variable on engine-rest has the same cap)


@dataclass(frozen=True)
class FieldError:
    """One problem with a submitted field; `field` is a JSON-pointer-like path such as `items/0/amount`.

    `kind` is the JSON Schema keyword that failed (required, minimum, maximum, pattern, maxLength, enum, format,
    type, ...) and `limit` its value where it is a plain one, so clients can word the message in their language.
    """

    field: str
    message: str
    kind: str | None = None
    limit: Any = None

    def to_dict(self) -> dict:
        """JSON-ready form, as problem+json `errors` entries (`kind`/`limit` only when known)."""
        out: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.kind:
            out["kind"] = self.kind
            if self.limit is not None:
                out["limit"] = self.limit
        return out


def check_schema(schema: Any) -> str | None:
    """None if `schema` is a usable JSON Schema (2020-12), else why not."""
    if not isinstance(schema, dict):
        return "a form must be a JSON object (a JSON Schema)"
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as err:
        return f"not a valid JSON Schema: {err.message}"
    return None


def _size(value: Any) -> int:
    """The JSON size of `value` in bytes (a str counts its UTF-8 bytes plus quotes, roughly)."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass")) + 2
    return len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass"))


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

    Generic checks: an object, not nested deeper than MAX_DEPTH, no NaN/Infinity, no text that cannot be stored
    (NUL, lone surrogates: forms.text), identifier names.
    With a form, fields the form does not declare are refused (they could overwrite process variables).
    """
    if not isinstance(data, dict):
        return [FieldError("variables", "must be a JSON object")]
    if _depth(data) > MAX_DEPTH:
        return [FieldError("variables", f"nested deeper than {MAX_DEPTH} levels")]
    bad_number = _non_finite(data)
    if bad_number:
        return [FieldError(bad_number, "must be a finite number")]
    bad_text = unstorable(data)
    if bad_text:
        return [FieldError(*bad_text)]
    too_big = [FieldError(str(name), f"the value is larger than {MAX_VALUE_BYTES} bytes as JSON")
               for name, value in data.items()
               if isinstance(value, dict | list | str) and _size(value) > MAX_VALUE_BYTES]
    if too_big:
        return too_big
    declared = set(((schema or {}).get("properties") or {}).keys()) if isinstance(schema, dict) else set()
    errors = check_variable_names(data, reserved, declared)
    if schema is None:
        return errors
    if schema.get("additionalProperties", False) is False:
        for name in data:
            if name not in declared and isinstance(name, str) and _IDENTIFIER.match(name):
                errors.append(FieldError(name, "is not a field of this form"))
    validator = _Validator(schema, format_checker=_format_checker())
    with budget():
        found = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    for err in found:
        path = "/".join(str(p) for p in err.absolute_path)
        if err.validator == "required" and isinstance(err.instance, dict):
            missing = [r for r in err.validator_value if r not in err.instance]
            for name in missing:
                errors.append(FieldError(f"{path}/{name}" if path else name, "is required", "required"))
            continue
        if err.validator == "additionalProperties" and not path:
            continue  # reported above, one error per unknown field
        out_of_range = _date_range_message(err)
        if out_of_range:  # no keyword: a page words the message itself ("must be between <day> and <day>")
            errors.append(FieldError(path or "variables", out_of_range))
            continue
        option = _option_message(err)
        kind = "enum" if option else str(err.validator)
        limit = err.validator_value if isinstance(err.validator_value, (int, float, str)) and not isinstance(
            err.validator_value, bool) else None
        errors.append(FieldError(path or "variables", option or err.message, kind, limit))
    return errors


def _in_date_range(value: object) -> bool:
    """The "date" format: an ISO calendar date (YYYY-MM-DD) within DATE_RANGE; any other type passes."""
    if not isinstance(value, str):
        return True
    if not _ISO_DATE.fullmatch(value):
        raise ValueError(value)
    day = date.fromisoformat(value)  # ValueError: not a calendar date
    if not DATE_RANGE[0] <= day <= DATE_RANGE[1]:
        raise ValueError(value)
    return True


def _format_checker() -> FormatChecker:
    """JSON Schema formats, with "date" bounded to DATE_RANGE."""
    checker = FormatChecker()
    checker.checks("date", raises=ValueError)(_in_date_range)
    return checker


def _date_range_message(err: Any) -> str | None:
    """A readable message for a well-formed date outside DATE_RANGE."""
    if err.validator != "format" or err.validator_value != "date" or not isinstance(err.instance, str) \
            or not _ISO_DATE.fullmatch(err.instance):
        return None
    try:
        date.fromisoformat(err.instance)
    except ValueError:
        return None
    return f"must be between {DATE_RANGE[0].isoformat()} and {DATE_RANGE[1].isoformat()}"


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Iterator[ValidationError]:
    """JSON Schema's `pattern`, run by forms.patterns: time-limited, on at most MAX_PATTERN_INPUT characters."""
    if not validator.is_type(instance, "string"):
        return
    if len(instance) > MAX_PATTERN_INPUT:
        yield ValidationError(f"is longer than {MAX_PATTERN_INPUT} characters, the most a field with a pattern "
                              f"may hold", validator="maxLength", validator_value=MAX_PATTERN_INPUT)
        return
    try:
        matched = search(pattern, instance)
    except PatternTimeout:
        yield ValidationError(f"could not be checked against the pattern {pattern!r} in time (the pattern is "
                              f"too complex)")
        return
    except regex.error:
        yield ValidationError(f"the form's pattern {pattern!r} cannot be used")
        return
    if not matched:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, properties: dict, instance: Any, schema: dict) -> Iterator[ValidationError]:
    """JSON Schema's `patternProperties`, its names matched as `pattern` matches values."""
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in properties.items():
        for name, value in instance.items():
            try:
                matched = len(name) <= MAX_PATTERN_INPUT and search(pattern, name)
            except (PatternTimeout, regex.error):
                yield ValidationError(f"the name {name[:100]!r} could not be checked against {pattern!r}")
                continue
            if matched:
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


_Validator = validators.extend(Draft202012Validator, {"pattern": _pattern, "patternProperties": _pattern_properties})


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


def unsafe_patterns(schema: Any) -> list[FieldError]:
    """Deploy-time check of a form's `pattern`s (forms/patterns.py): too long, invalid, or nesting quantifiers
    (catastrophic backtracking) is a problem naming the field."""
    return [FieldError(name, message, "pattern") for name, message in pattern_problems(schema)]
