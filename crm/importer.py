"""All-or-nothing import of customers and contacts from CSV/XLSX rows, with a row-by-row error report."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm.access import Viewer, can_edit_customer, can_read_customer
from crm.customers import FIELDS, LEVELS, create_customer, name_key, phone_key
from crm.models import Contact, Customer
from store.errors import InvalidData

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONTACT_FIELDS = ("customer", "name", "title", "phone", "email")
LIMITS = {"name": 200, "industry": 100, "region": 100, "source": 100, "phone": 50, "title": 100, "email": 200}


def _lengths(row: dict[str, str], n: int, fields: tuple[str, ...], errors: list[dict]) -> None:
    for f in fields:
        if f in LIMITS and len(row.get(f, "")) > LIMITS[f]:
            errors.append({"row": n, "field": f, "message": f"longer than {LIMITS[f]} characters"})


def _fail(errors: list[dict], total: int) -> None:
    if errors:
        raise InvalidData(f"{len({e['row'] for e in errors})} of {total} rows have problems; nothing was imported",
                          errors=errors[:1000])


def import_customers(session: Session, viewer: Viewer, rows: list[dict[str, str]]) -> list[Customer]:
    """Create a customer per row (columns name, industry, region, level, source, phone), or none at all.
    Row numbers in the report count the header as row 1."""
    errors: list[dict] = []
    seen_names: dict[str, int] = {}
    seen_phones: dict[str, int] = {}
    if rows and "name" not in rows[0]:
        _fail([{"row": 1, "field": "name", "message": "the header has no 'name' column"}], len(rows))
    for i, row in enumerate(rows, start=2):
        name = row.get("name", "")
        if not name_key(name):
            errors.append({"row": i, "field": "name", "message": "required"})
        if row.get("level") and row["level"] not in LEVELS:
            errors.append({"row": i, "field": "level", "message": f"must be one of {', '.join(LEVELS)}"})
        _lengths(row, i, FIELDS, errors)
        nk, pk = name_key(name), phone_key(row.get("phone"))
        if nk and nk in seen_names:
            errors.append({"row": i, "field": "name", "message": f"repeats row {seen_names[nk]}"})
        if pk and pk in seen_phones:
            errors.append({"row": i, "field": "phone", "message": f"repeats row {seen_phones[pk]}"})
        if nk:
            seen_names.setdefault(nk, i)
        if pk:
            seen_phones.setdefault(pk, i)
        if nk:
            conds = [Customer.name_key == nk] + ([Customer.phone_key == pk] if pk else [])
            existing = session.scalars(select(Customer).where(or_(*conds)).limit(1)).first()
            if existing is not None:
                field = "name" if existing.name_key == nk else "phone"
                msg = (f"already exists as customer {existing.id}" if can_read_customer(session, viewer, existing)
                       else "already exists (owned by another rep)")
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
            errors.append({"row": i, "field": "customer", "message": "unknown customer"})
        elif not can_edit_customer(session, viewer, customer):
            errors.append({"row": i, "field": "customer", "message": "you may not edit this customer"})
        else:
            resolved.append(customer.id)
        if not row.get("name"):
            errors.append({"row": i, "field": "name", "message": "required"})
        if row.get("email") and not EMAIL_RE.match(row["email"]):
            errors.append({"row": i, "field": "email", "message": "not an email address"})
        _lengths(row, i, CONTACT_FIELDS, errors)
    _fail(errors, len(rows))
    from crm.contacts import create_contact_row
    return [create_contact_row(session, viewer, cid, {k: row.get(k) or None for k in ("name", "title", "phone",
                                                                                       "email")})
            for cid, row in zip(resolved, rows, strict=True)]


def any_rows(rows: list[dict[str, Any]]) -> None:
    """422 if an import has no data rows."""
    if not rows:
        raise InvalidData("the file has no data rows", errors=[{"field": "file", "message": "no data rows"}])
