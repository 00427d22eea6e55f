"""All-or-nothing import of customers and contacts from CSV/XLSX rows, with a row-by-row error report."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm.access import Viewer, can_edit_customer, can_read_customer
from crm.customers import FIELDS, LEVELS, create_customer, name_key, phone_key
from crm.models import Contact, Customer
from store.errors import InvalidData
from store.messages import Message

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONTACT_FIELDS = ("customer", "name", "title", "phone", "email")
LIMITS = {"name": 200, "industry": 100, "region": 100, "source": 100, "phone": 50, "title": 100, "email": 200}


def _lengths(row: dict[str, str], n: int, fields: tuple[str, ...], errors: list[dict]) -> None:
    for f in fields:
        if f in LIMITS and len(row.get(f, "")) > LIMITS[f]:
            errors.append({"row": n, "field": f, "message": Message("longer than {n} characters", n=LIMITS[f])})


def _fail(errors: list[dict], total: int) -> None:
    if errors:
        raise InvalidData(Message("{bad} of {total} rows have problems; nothing was imported",
                                  bad=len({e["row"] for e in errors}), total=total), errors=errors[:1000])


def with_option_keys(row: dict[str, str], aliases: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The row with each option field's value replaced by its option key when it names one: `aliases` maps a
    field to {casefolded label or key: key} (labels in every language the pages speak). A value naming no option
    is kept as typed: the caller's validation decides whether the field is free text (industry, region, source,
    as the API) or a fixed list (level: refused naming the column)."""
    out = dict(row)
    for field, names in aliases.items():
        value = (row.get(field) or "").strip()
        if value:
            out[field] = names.get(value.casefold(), value)
    return out


FORMULA_GUARD = re.compile(r"^'(?=[=+\-@])")  # the apostrophe an export puts before + = - @ (a phone +86…)


def without_formula_guard(row: dict[str, str]) -> dict[str, str]:
    """The row with the apostrophe an export put before a formula character removed ('+86 21… is +86 21…), so
    an exported file imports back as it was."""
    return {k: FORMULA_GUARD.sub("", v) if isinstance(v, str) else v for k, v in row.items()}


def with_column_keys(row: dict[str, str], headers: Mapping[str, str]) -> dict[str, str]:
    """The row keyed by column key where its header names a column by label: `headers` maps a casefolded label
    (名称, "Name") to the key (`name`). A header that is a key already, or names nothing, is kept; a key given
    both ways keeps the value under the key itself."""
    out: dict[str, str] = {}
    for header, value in row.items():
        key = headers.get(header.strip().casefold(), header)
        if key not in out or header == key:
            out[key] = value
    return out


def import_customers(session: Session, viewer: Viewer, rows: list[dict[str, str]],
                     aliases: Mapping[str, Mapping[str, str]] | None = None,
                     headers: Mapping[str, str] | None = None) -> list[Customer]:
    """Create a customer per row (columns name, industry, region, level, source, phone), or none at all.
    Column headers may be the columns' labels in any language the pages speak (名称 for `name`) when `headers`
    (see with_column_keys) is given; option labels (制造业, "Manufacturing", "a") are stored as their key when
    `aliases` (see with_option_keys) is given. Row numbers in the report count the header as row 1."""
    rows = [without_formula_guard(row) for row in rows]
    if headers:
        rows = [with_column_keys(row, headers) for row in rows]
    if aliases:
        rows = [with_option_keys(row, aliases) for row in rows]
    errors: list[dict] = []
    seen_names: dict[str, int] = {}
    seen_phones: dict[str, int] = {}
    if rows and "name" not in rows[0]:
        _fail([{"row": 1, "field": "name", "message": Message("the header has no 'name' column")}], len(rows))
    for i, row in enumerate(rows, start=2):
        name = row.get("name", "")
        if not name_key(name):
            errors.append({"row": i, "field": "name", "message": Message("required")})
        if row.get("level") and row["level"] not in LEVELS:
            errors.append({"row": i, "field": "level", "message": Message("must be one of {options}",
                                                                           options=", ".join(LEVELS))})
        _lengths(row, i, FIELDS, errors)
        nk, pk = name_key(name), phone_key(row.get("phone"))
        if nk and nk in seen_names:
            errors.append({"row": i, "field": "name", "message": Message("repeats row {row}", row=seen_names[nk])})
        if pk and pk in seen_phones:
            errors.append({"row": i, "field": "phone", "message": Message("repeats row {row}", row=seen_phones[pk])})
        if nk:
            seen_names.setdefault(nk, i)
        if pk:
            seen_phones.setdefault(pk, i)
        if nk:
            conds = [Customer.name_key == nk] + ([Customer.phone_key == pk] if pk else [])
            existing = session.scalars(select(Customer).where(or_(*conds)).limit(1)).first()
            if existing is not None:
                field = "name" if existing.name_key == nk else "phone"
                msg = (Message("already exists as customer {id}", id=existing.id)
                       if can_read_customer(session, viewer, existing)
                       else Message("already exists (owned by another rep)"))
                errors.append({"row": i, "field": field, "message": msg})
    _fail(errors, len(rows))
    return [create_customer(session, viewer, {k: (row.get(k) or None) for k in FIELDS}) for row in rows]


def import_contacts(session: Session, viewer: Viewer, rows: list[dict[str, str]]) -> list[Contact]:
    """Create a contact per row (columns customer = id or exact name, name, title, phone, email), or none."""
    errors: list[dict] = []
    resolved: list[int] = []
    for i, row in enumerate(rows, start=2):
        ref = row.get("customer", "")
        customer = None
        if ref.isdigit():
            customer = session.get(Customer, int(ref))
        elif ref:
            customer = session.scalar(select(Customer).where(Customer.name_key == name_key(ref)))
        if customer is None or not can_read_customer(session, viewer, customer):
            errors.append({"row": i, "field": "customer", "message": Message("unknown customer")})
        elif not can_edit_customer(session, viewer, customer):
            errors.append({"row": i, "field": "customer", "message": Message("you may not edit this customer")})
        else:
            resolved.append(customer.id)
        if not row.get("name"):
            errors.append({"row": i, "field": "name", "message": Message("required")})
        if row.get("email") and not EMAIL_RE.match(row["email"]):
            errors.append({"row": i, "field": "email", "message": Message("not an email address")})
        _lengths(row, i, CONTACT_FIELDS, errors)
    _fail(errors, len(rows))
    from crm.contacts import create_contact_row
    return [create_contact_row(session, viewer, cid, {k: row.get(k) or None for k in ("name", "title", "phone",
                                                                                       "email")})
            for cid, row in zip(resolved, rows, strict=True)]


def any_rows(rows: list[dict[str, Any]]) -> None:
    """422 if an import has no data rows."""
    if not rows:
        raise InvalidData(Message("the file has no data rows"),
                          errors=[{"field": "file", "message": Message("no data rows")}])
