"""Camunda task forms in oaflow terms: generated forms (``camunda:formData``) become a JSON Schema, and form
keys that point into a web application (``embedded:app:forms/x.html``, ``app:x.jsf``, ``camunda-forms:``)
are recognised so they can be kept as metadata instead of being looked up as form files. A generated form's
``defaultValue`` fills the field when a submission leaves it out (:func:`with_defaults`)."""

from __future__ import annotations

import re
from datetime import date

from lxml import etree

from engine.bpmn_syntax import BPMN_NS, CAMUNDA_NS

MAX_FIELDS = 200
_APP_KEY_RE = re.compile(r"^\s*(embedded:app:|app:|camunda-forms:)", re.IGNORECASE)
_TYPES = {"string": "string", "long": "integer", "boolean": "boolean", "date": "string", "enum": "string"}


def is_app_form_key(value: str | None) -> bool:
    """True if a ``camunda:formKey`` names a web application page or a Camunda Form, not a JSON Schema."""
    return bool(value) and bool(_APP_KEY_RE.match(value))


def generated_form_name(element_id: str) -> str:
    """The name under which the generated schema of an element is stored with its definition."""
    return f"camunda-formData:{element_id}"


def _cam(tag: str) -> str:
    return f"{{{CAMUNDA_NS}}}{tag}"


_CAMUNDA_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")  # Camunda's default date format, dd/MM/yyyy


def _default(kind: str, raw: str, options: list[str] | None = None) -> object | None:
    """The typed default of a form field, or None when `raw` is an expression or not a value of the type."""
    raw = raw.strip()
    if raw.startswith(("${", "#{")):
        return None  # an expression: evaluated by Camunda at run time, no static default here
    if kind == "long":
        try:
            return int(raw)
        except ValueError:
            return None
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw.lower())
    if kind == "date":
        found = _CAMUNDA_DATE.match(raw)
        iso = f"{found.group(3)}-{found.group(2)}-{found.group(1)}" if found else raw
        try:
            return date.fromisoformat(iso).isoformat() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso) else None
        except ValueError:
            return None
    if kind == "enum":
        return raw if options is not None and raw in options else None
    return raw


def is_generated_form(name: str | None) -> bool:
    """True if a form name is the generated schema of an element's ``camunda:formData``."""
    return bool(name) and str(name).startswith(generated_form_name(""))


def with_defaults(form_name: str | None, schema: dict | None, variables: dict) -> dict:
    """`variables` with each field a generated (``camunda:formData``) form leaves out or sends as null set to the
    field's ``defaultValue``, as Camunda does; other forms' data is returned as it is."""
    if not is_generated_form(form_name) or not isinstance(schema, dict) or not isinstance(variables, dict):
        return variables
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    filled = {name: prop["default"] for name, prop in props.items()
              if isinstance(prop, dict) and "default" in prop and variables.get(name) is None}
    return {**variables, **filled} if filled else variables


def _constraints(field: etree._Element, prop: dict, kind: str) -> bool:
    """Apply camunda:validation constraints to `prop`; True if the field is required."""
    required = False
    for c in field.iter(_cam("constraint")):
        name, config = (c.get("name") or "").strip().lower(), (c.get("config") or "").strip()
        if name == "required":
            required = True
        elif name == "readonly":
            prop["readOnly"] = True
        elif name in ("minlength", "maxlength") and config.isdigit():
            prop["minLength" if name == "minlength" else "maxLength"] = int(config)
        elif name in ("min", "max") and kind == "long":
            try:
                prop["minimum" if name == "min" else "maximum"] = int(config)
            except ValueError:
                pass
    return required


def form_data_schema(node: etree._Element) -> dict | None:
    """The JSON Schema of a user task's / start event's ``camunda:formData``; None without one."""
    form_data = node.find(f"{{{BPMN_NS}}}extensionElements/{_cam('formData')}")
    if form_data is None:
        return None
    properties: dict[str, dict] = {}
    required: list[str] = []
    for field in form_data.findall(_cam("formField"))[:MAX_FIELDS]:
        fid = (field.get("id") or "").strip()
        if not fid:
            continue
        kind = (field.get("type") or "string").strip().lower()
        prop: dict = {"type": _TYPES.get(kind, "string"), "title": field.get("label") or fid}
        if kind == "date":
            prop["format"] = "date"
        if kind == "enum":
            values = [v for v in field.findall(_cam("value")) if v.get("id")]  # capped at deploy (forms.limits)
            prop["enum"] = [v.get("id") for v in values]
            prop["enumNames"] = [v.get("name") or v.get("id") for v in values]
        if field.get("defaultValue") is not None:
            default = _default(kind, field.get("defaultValue"), prop.get("enum"))
            if default is not None:
                prop["default"] = default
        if _constraints(field, prop, kind):
            required.append(fid)
        properties[fid] = prop
    schema: dict = {"type": "object", "title": node.get("name") or node.get("id"), "properties": properties}
    if required:
        schema["required"] = required
    return schema
