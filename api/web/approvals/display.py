"""What a request says, for people: its submitted data with the start form's labels, and a one-line summary.

Only fields the start form declares are shown (plus the few values the platform computes for a shipped
flow, such as the leave's working days and the claim's total) — never internal variables like `chain`,
`by_category`, `reviewers` or `votes`. Values are formatted (money, dates, enum labels); arrays of objects
become small tables. Records named by reference fields are shown by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import format_decimal, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.web import formatting
from api.web.common import queries as q
from api.web.labels import VALUE_LABELS, label
from api.web.people import person
from engine.models import InstanceAttachment, ProcessDefinition, ProcessInstance
from forms.files import is_file_field

MAX_TEXT = 300  # characters of one value in a summary line
# values the platform computes for a shipped flow (not in its start form), shown after the form's fields
COMPUTED: dict[str, list[tuple[str, Any, str]]] = {
    "leave_request": [("days", _l("Working days"), "number")],
    "expense_claim": [("total", _l("Total"), "money")],
}


class FileName(str):
    """The name of an attachment a file field names, shown as a download link (`attachment_id`)."""

    attachment_id: int

    def __new__(cls, text: str, attachment_id: int) -> FileName:  # noqa: D102
        made = super().__new__(cls, text)
        made.attachment_id = attachment_id
        return made


@dataclass
class Shown:
    """One labelled value of a request: text, or a table (columns and rows of texts)."""

    name: str
    title: str
    text: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def start_schema(d: ProcessDefinition) -> dict:
    """The JSON Schema of a definition's start form ({} when it has none)."""
    meta = q.start_meta(d)
    schema = d.forms.get(meta.form or "") if meta else None
    return schema if isinstance(schema, dict) else {}


def field_order(d: ProcessDefinition, schema: dict) -> list[str]:
    """The start form's field names in a stable order: the UI schema's ui:order, then the required fields,
    then the rest (JSONB on PostgreSQL does not keep the order of an object's keys; arrays keep theirs)."""
    meta = q.start_meta(d)
    ui = d.forms.get(meta.ui_form or "") if meta and meta.ui_form else None
    props = schema.get("properties") or {}
    order = ui.get("ui:order") if isinstance(ui, dict) and isinstance(ui.get("ui:order"), list) else []
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    names = [n for n in [*order, *required] if isinstance(n, str) and n in props]
    names = list(dict.fromkeys(names))
    return names + [n for n in props if n not in names]


def field_order_of(schema: dict) -> list[str]:
    """An object schema's property names, required ones first (a stable order on every database)."""
    props = schema.get("properties") or {}
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    names = list(dict.fromkeys(n for n in required if isinstance(n, str) and n in props))
    return names + [n for n in props if n not in names]


def _enum_label(prop: dict, value: Any) -> str | None:
    names = prop.get("enumNames")
    enum = prop.get("enum")
    if isinstance(enum, list) and isinstance(names, list) and value in enum and len(names) == len(enum):
        return label(names[enum.index(value)])
    return None


def _is_money(name: str, prop: dict) -> bool:
    return prop.get("type") == "number" and formatting.is_money_name(name)


def format_value(name: str, prop: dict, value: Any, refs: dict[tuple[str, int], str] | None = None,
                 files: dict[int, str] | None = None) -> str:
    """One scalar value as text: enum label, money with two decimals, dates in the reader's locale, a person by
    display name; a file field as the attachment's name (a :class:`FileName`, never the raw id)."""
    if value is None or value == "":
        return ""
    if is_file_field(prop):
        known = (files or {}).get(value) if isinstance(value, int) and not isinstance(value, bool) else None
        return FileName(known, value) if known is not None else ""
    enum_text = _enum_label(prop, value)
    if enum_text is not None:
        return enum_text
    ref = prop.get("x-oaflow-ref")
    if ref and refs is not None and isinstance(value, int) and (str(ref), value) in refs:
        return refs[(str(ref), value)]
    if ref == "oa.user" and isinstance(value, str):  # a person picked on the form: by their display name
        return person(value)
    if isinstance(value, bool):
        return str(label("Yes" if value else "No"))
    if isinstance(value, int | float):
        if _is_money(name, prop):
            return format_decimal(value, format="#,##0.00")
        return format_decimal(value)
    if isinstance(value, str) and prop.get("format") == "date":
        return formatting.format_date(value)  # the reader's date format, as on every other page
    if isinstance(value, list):
        return ", ".join(format_value(name, prop.get("items") or {}, v, refs) for v in value[:50])
    if isinstance(value, dict):
        return ""  # objects are shown as tables, never as raw JSON
    text = str(value)
    return label(text) if "enum" in prop or text in VALUE_LABELS else text  # a status or CRM key (`high`)


def reference_names(session: Session, schema: dict, variables: dict) -> dict[tuple[str, int], str]:
    """Names of the CRM records the start form's reference fields point at ((kind, id) -> name)."""
    from crm.models import Customer, Opportunity, SalesOrder, Ticket
    models = {"crm.customer": (Customer, "name"), "crm.opportunity": (Opportunity, "name"),
              "crm.order": (SalesOrder, "number"), "crm.ticket": (Ticket, "title")}
    out: dict[tuple[str, int], str] = {}
    for name, prop in (schema.get("properties") or {}).items():
        kind = prop.get("x-oaflow-ref") if isinstance(prop, dict) else None
        value = variables.get(name)
        if kind in models and isinstance(value, int) and not isinstance(value, bool):
            model, column = models[kind]
            found = session.scalar(select(getattr(model, column)).where(model.id == value))
            if found is not None:
                out[(kind, value)] = str(found)
    return out


def submitted(session: Session, inst: ProcessInstance) -> list[Shown]:
    """The instance's data as its start form labels it, in the form's order."""
    schema = start_schema(inst.definition)
    variables = inst.variables or {}
    refs = reference_names(session, schema, variables)
    files = dict(session.execute(select(InstanceAttachment.id, InstanceAttachment.filename)
                                 .where(InstanceAttachment.instance_id == inst.id).limit(1000)).all())
    shown: list[Shown] = []
    props = schema.get("properties") or {}
    for name in field_order(inst.definition, schema):
        prop = props[name]
        if not isinstance(prop, dict) or name not in variables:
            continue
        value = variables[name]
        title = label(prop.get("title") or name)
        items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
        if isinstance(value, list) and items.get("type") == "object":
            inner = items.get("properties") or {}
            cols = [(k, inner[k]) for k in field_order_of(items) if isinstance(inner[k], dict)]
            rows = [[format_value(k, p, row.get(k), refs, files) for k, p in cols]
                    for row in value[:200] if isinstance(row, dict)]
            shown.append(Shown(name, title, columns=[label(p.get("title") or k) for k, p in cols], rows=rows))
        else:
            shown.append(Shown(name, title, format_value(name, prop, value, refs, files)))
    for name, title, kind in COMPUTED.get(inst.process_key, []):
        if name in variables and name not in (schema.get("properties") or {}):
            prop = {"type": "number"} if kind in ("number", "money") else {}
            shown.append(Shown(name, str(title), format_value("total" if kind == "money" else name, prop,
                                                                variables[name])))
    return shown


def _money(value: Any) -> str:
    return format_decimal(value, format="#,##0.00") if isinstance(value, int | float) else ""


def summary(session: Session, inst: ProcessInstance) -> str:
    """One line saying what the request is about, from its data (per shipped flow; the first fields else)."""
    v = inst.variables or {}
    key = inst.process_key
    if key == "leave_request":
        days = v.get("days")
        dates = {"format": "date"}
        kind = v.get("leave_type") or ""
        shown = label(kind)
        if shown == kind:  # no label for the stored key in this language: the start form's enumNames
            prop = ((start_schema(inst.definition) or {}).get("properties") or {}).get("leave_type") or {}
            shown = _enum_label(prop, kind) or kind
        parts = [shown, f"{format_value('start_date', dates, v.get('start_date'))} → "
                 f"{format_value('end_date', dates, v.get('end_date'))}"]
        if isinstance(days, int | float):
            # singular for exactly one day in English ("1 working day"; 0.5 and 1.5 read "days"); zh has one form
            parts.append(ngettext("%(days)s working day", "%(days)s working days", 1 if days == 1 else 2,
                                  days=format_decimal(days)))
        return _cap(" · ".join(p for p in parts if p))
    if key == "expense_claim":
        total = v.get("total")
        if not isinstance(total, int | float):
            total = sum(i.get("amount", 0) for i in v.get("items") or [] if isinstance(i, dict)
                        and isinstance(i.get("amount"), int | float))
        return _cap(str(_l("Total %(amount)s", amount=_money(total))))
    if key == "contract_approval":
        customer = _customer_of_opportunity(session, v.get("opportunity_id"))
        return _cap(" · ".join(p for p in [customer, str(v.get("title") or ""), _money(v.get("amount"))] if p))
    if key == "customer_visit":
        refs = reference_names(session, start_schema(inst.definition), v)
        customer = refs.get(("crm.customer", v.get("customer_id")), "") if isinstance(v.get("customer_id"), int) else ""
        when = format_value("visit_date", {"format": "date"}, v.get("visit_date"))
        return _cap(" · ".join(p for p in [customer, when] if p))
    if key == "sales_order_approval":
        order = v.get("order") if isinstance(v.get("order"), dict) else {}
        customer = _customer_name(session, order.get("customer_id"))
        parts = [str(order.get("number") or ""), customer, _money(order.get("total", v.get("total")))]
        return _cap(" · ".join(p for p in parts if p))
    return generic_summary(session, inst)


def generic_summary(session: Session, inst: ProcessInstance) -> str:
    """The first three filled scalar fields of the start form, as `Title: value`."""
    parts = [f"{s.title}: {s.text}" for s in submitted(session, inst) if s.text and not s.columns][:3]
    return _cap(" · ".join(parts))


def _customer_name(session: Session, customer_id: Any) -> str:
    from crm.models import Customer
    if not isinstance(customer_id, int) or isinstance(customer_id, bool):
        return ""
    return session.scalar(select(Customer.name).where(Customer.id == customer_id)) or ""


def _customer_of_opportunity(session: Session, opportunity_id: Any) -> str:
    from crm.models import Customer, Opportunity
    if not isinstance(opportunity_id, int) or isinstance(opportunity_id, bool):
        return ""
    return session.scalar(select(Customer.name).join(Opportunity, Opportunity.customer_id == Customer.id)
                          .where(Opportunity.id == opportunity_id)) or ""


def _cap(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"
