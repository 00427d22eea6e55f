"""Typed record references in forms: a field that names a CRM/OA record declares its type and accepted states.

A form property such as

    "opportunity_id": {"type": "integer", "x-oaflow-ref": "crm.opportunity",
                       "x-oaflow-ref-state": {"status": ["open"]}, "x-oaflow-ref-access": "edit",
                       "x-oaflow-ref-exclusive": true}

says: the value is the id of a `crm.opportunity`; the acting user must be allowed to edit it (default: read);
its `status` must be `open`; and while an instance of this process runs, no other running instance of the
same process may hold the same record (a record claim, see engine.references).

The types are plugged in by the app factory (`registry.register`), so this package knows no domain: a
resolver loads the record for a user (or for nobody: existence only) and raises ReferenceViolation when the
record is unknown or outside the user's data scope. See forms/README.md.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

REF = "x-oaflow-ref"
REF_STATE = "x-oaflow-ref-state"
REF_ACCESS = "x-oaflow-ref-access"
REF_EXCLUSIVE = "x-oaflow-ref-exclusive"
BUSINESS_KEY = "x-oaflow-business-key"  # top-level: the business key, derived from reference fields
MAX_BUSINESS_KEY = 255  # characters (process_instance.business_key)
ACCESS_LEVELS = ("read", "edit")
MAX_REF_VALUE = 100  # characters of a stored reference id


class ReferenceViolation(Exception):
    """The referenced record is unknown, out of the user's scope, or in a state the flow does not accept."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Reference:
    """One field's declaration: record type, accepted states, access level and whether it is claimed."""

    field: str
    type: str
    states: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    access: str = "read"
    exclusive: bool = False
    many: bool = False  # the field is an array whose items are references (e.g. a list of signers)


# resolver(session, username or None, record id, edit) -> the record; raises ReferenceViolation.
# username None checks existence only (a re-check while the instance runs, not a user's request).
Resolver = Callable[[Any, str | None, Any, bool], Any]


@dataclass(frozen=True)
class RefType:
    """A registered record type: its resolver and the attributes a form may constrain (with their values)."""

    name: str
    resolver: Resolver
    states: Mapping[str, frozenset[Any]]


class ReferenceRegistry:
    """Record types by name. The app factory registers the CRM and OA types."""

    def __init__(self) -> None:
        self._types: dict[str, RefType] = {}

    def register(self, name: str, resolver: Resolver, *, states: Mapping[str, set[Any]] | None = None) -> None:
        """Register (or replace) type `name`; `states` lists, per attribute, the values a form may accept."""
        self._types[name] = RefType(name, resolver, {k: frozenset(v) for k, v in (states or {}).items()})

    def types(self) -> list[str]:
        """Registered type names, sorted."""
        return sorted(self._types)

    def get(self, name: str) -> RefType | None:
        """The type registered as `name`, if any."""
        return self._types.get(name)

    def declaration_problems(self, schema: Any) -> list[tuple[str, str]]:
        """(field, message) for every malformed or unknown reference declaration in a form (deploy time)."""
        problems: list[tuple[str, str]] = []
        for name, prop in _properties(schema).items():
            problems.extend((name, m) for m in self._prop_problems(prop))
            if isinstance(prop.get("items"), dict):
                problems.extend((f"{name}/items", m) for m in self._prop_problems(prop["items"]))
        problems.extend((BUSINESS_KEY, m) for m in business_key_problems(schema))
        return problems

    def _prop_problems(self, prop: dict) -> list[str]:
        if REF not in prop:
            extra = [k for k in (REF_STATE, REF_ACCESS, REF_EXCLUSIVE) if k in prop]
            return [f"{', '.join(extra)} without {REF}"] if extra else []
        ref_type = self._types.get(prop[REF]) if isinstance(prop[REF], str) else None
        if ref_type is None:
            return [f"unknown record type {str(prop[REF])[:100]!r} in {REF} (known: {', '.join(self.types())})"]
        problems = []
        states = prop.get(REF_STATE, {})
        if not isinstance(states, dict):
            return [f"{REF_STATE} must be an object of attribute: [accepted values]"]
        for attr, values in states.items():
            allowed = ref_type.states.get(attr)
            if allowed is None:
                problems.append(f"{REF_STATE}: {ref_type.name} has no state {str(attr)[:100]!r}"
                                f" (known: {', '.join(sorted(ref_type.states)) or 'none'})")
            elif not isinstance(values, list) or not values or not all(v in allowed for v in values):
                problems.append(f"{REF_STATE}.{attr} must be a non-empty list of "
                                f"{', '.join(sorted(map(str, allowed)))}")
        if prop.get(REF_ACCESS, "read") not in ACCESS_LEVELS:
            problems.append(f"{REF_ACCESS} must be one of {', '.join(ACCESS_LEVELS)}")
        if not isinstance(prop.get(REF_EXCLUSIVE, False), bool):
            problems.append(f"{REF_EXCLUSIVE} must be true or false")
        return problems

    def check(self, session: Any, schema: Any, data: Mapping[str, Any], username: str | None) -> list[tuple[str, str]]:
        """(field, message) for each reference in `data` that is unknown, out of scope or in a refused state.

        `username` None checks existence and state only. Fields left empty (absent or null) are not checked.
        """
        problems = []
        for ref in declared(schema):
            for field_name, value in ref_values(ref, data):
                problems.extend(self._check_one(session, ref, field_name, value, username))
        return problems

    def _check_one(self, session: Any, ref: Reference, field_name: str, value: Any,
                   username: str | None) -> list[tuple[str, str]]:
        ref_type = self._types.get(ref.type)
        if ref_type is None:
            return [(field_name, f"record type {ref.type} is not available")]
        try:
            record = ref_type.resolver(session, username, value, ref.access == "edit")
        except ReferenceViolation as err:
            return [(field_name, err.message)]
        return [(field_name, f"{ref.type} {value} is {current}; this flow needs {attr} {' or '.join(map(str, ok))}")
                for attr, ok in ref.states.items() if (current := getattr(record, attr, None)) not in ok]


def ref_values(ref: Reference, data: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(field path, value) of each non-empty reference `ref` names in `data`: one for a plain field, one per
    item (`signers/0`, `signers/1`, ...) for an array of references."""
    value = data.get(ref.field)
    if value is None:
        return []
    if not ref.many:
        return [(ref.field, value)]
    items = value if isinstance(value, list) else []
    return [(f"{ref.field}/{i}", item) for i, item in enumerate(items) if item is not None]


def _properties(schema: Any) -> dict[str, dict]:
    props = schema.get("properties") if isinstance(schema, dict) else None
    return {k: v for k, v in props.items() if isinstance(v, dict)} if isinstance(props, dict) else {}


def declared(schema: Any) -> list[Reference]:
    """The well-formed reference declarations of a form's top-level fields (and of their array items)."""
    refs = []
    for name, prop in _properties(schema).items():
        many = not isinstance(prop.get(REF), str) and isinstance(prop.get("items"), dict)
        decl = prop["items"] if many else prop
        if not isinstance(decl.get(REF), str):
            continue
        states = decl.get(REF_STATE) if isinstance(decl.get(REF_STATE), dict) else {}
        refs.append(Reference(name, decl[REF],
                              {k: tuple(v) for k, v in states.items() if isinstance(v, list)},
                              "edit" if decl.get(REF_ACCESS) == "edit" else "read",
                              decl.get(REF_EXCLUSIVE) is True, many))
    return refs


def _template_fields(template: str) -> list[str]:
    """The `{field}` names of a business-key template (ValueError if it is not a plain template)."""
    names = []
    for _literal, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            raise ValueError(f"{{{name}}} must be a plain field name (no format, index or attribute)")
        names.append(name)
    return names


def business_key_problems(schema: Any) -> list[str]:
    """What is wrong with a form's `x-oaflow-business-key` template (deploy time); [] if it has none.

    The template (e.g. "opportunity:{opportunity_id}") may only name required top-level fields that are
    typed references, so the key always names records the starter was allowed to use."""
    if not isinstance(schema, dict) or BUSINESS_KEY not in schema:
        return []
    template = schema[BUSINESS_KEY]
    if not isinstance(template, str) or not 0 < len(template) <= MAX_BUSINESS_KEY:
        return [f"must be a text of 1 to {MAX_BUSINESS_KEY} characters"]
    try:
        names = _template_fields(template)
    except ValueError as err:
        return [str(err)[:200]]
    if not names:
        return ["must name at least one reference field, e.g. \"opportunity:{opportunity_id}\""]
    refs = {ref.field for ref in declared(schema) if not ref.many}
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    return [f"{{{name[:100]}}} is not a required field with {REF}" for name in names
            if name not in refs or name not in required]


def business_key_of(schema: Any, data: Mapping[str, Any]) -> str | None:
    """The business key a form derives from submitted `data`, or None if the form declares none (or a
    named field cannot name a record)."""
    template = schema.get(BUSINESS_KEY) if isinstance(schema, dict) else None
    if not isinstance(template, str) or business_key_problems(schema):
        return None
    values = {name: ref_value(data.get(name)) for name in _template_fields(template)}
    if any(v is None for v in values.values()):
        return None
    key = template.format(**values)
    return key if len(key) <= MAX_BUSINESS_KEY else None


def ref_value(value: Any) -> str | None:
    """A reference value as stored (text, capped), or None when it cannot name a record."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    text = str(value)
    return text if 0 < len(text) <= MAX_REF_VALUE else None


# The process-wide registry: deploy-time validation and the engine read it; the app factory fills it.
registry = ReferenceRegistry()
