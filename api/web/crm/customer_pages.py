"""Customer pages: the list (search, filters, CSV/XLSX export of the filtered list, import with a per-row error
report), the customer page (contacts, opportunities, contracts, tickets, follow-ups, release and transfer),
create and edit with dropdowns for industry, region, source and level, and adding a follow-up.

Thin views over crm.customers / crm.importer / crm.follow_ups with the logged-in viewer, as the v1 API.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import Select, select

from api.extensions import db
from api.http import query_args
from api.web.blueprint import bp
from api.web.common.error_text import english, error_text
from api.web.common.forms import load_form
from api.web.common.queries import capped_count
from api.web.crm import choices
from api.web.crm.pages import PER_PAGE, crm_viewer, field_errors, pages_of
from crm import contacts, contracts, follow_ups, opportunities, tickets
from crm import customers as customers_svc
from crm.access import Viewer, can_edit_customer, get_customer
from crm.importer import any_rows, import_customers
from crm.invoices import sales_summary
from crm.models import Customer
from crm.table_reader import MAX_FILE_BYTES, MAX_IMPORT_ROWS, read_table
from oa.models import Group, User
from store.base import utcnow
from store.clock import to_company
from store.errors import Conflict, DomainError, InvalidData

EXPORT_COLUMNS = ("id", "name", "industry", "region", "level", "source", "phone", "owner", "points",
                  "last_follow_up_at", "created_at")
MAX_EXPORT_ROWS = 50_000  # as the v1 API's export
MAX_REPS = 500  # people offered in the transfer select
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CustomerSearch(Schema):
    """Query arguments of the customer list (and its export)."""

    class Meta:
        unknown = RAISE

    q = fields.String(validate=validate.Length(max=200))
    level = fields.String(validate=validate.OneOf(("", *customers_svc.LEVELS)))
    industry = fields.String(validate=validate.Length(max=100))
    region = fields.String(validate=validate.Length(max=100))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    format = fields.String(validate=validate.OneOf(("csv", "xlsx")))
    keys = fields.Boolean()  # export the stored option keys (retail, north) instead of the reader's labels


def search_customers(viewer: Viewer, text: str | None, level: str | None, industry: str | None = None,
                     region: str | None = None) -> Select:
    """Customers in the viewer's scope with the given level/industry/region whose name, phone, contact, industry
    or region contains `text` (crm.customers.search_query: the bigram index, not a table scan)."""
    return customers_svc.search_query(db.session, viewer, text, level, industry, region)


OPTION_COLUMNS = ("industry", "region", "level", "source")
TIME_COLUMNS = ("last_follow_up_at", "created_at")
FORMULA_START = ("=", "+", "-", "@")  # what a spreadsheet reads as a formula when a CSV cell starts with it


def export_row(c: Customer, keys: bool) -> dict[str, Any]:
    """A customer as the reader sees it: option labels in the reader's language (the stored keys with `keys`),
    times in the company time zone with their offset (ISO 8601, e.g. 2026-11-02T09:30:00+08:00)."""
    row = customers_svc.customer_dict(c)
    if not keys:
        row.update({k: choices.choice(k, getattr(c, k)) or None for k in OPTION_COLUMNS})
    for k in TIME_COLUMNS:
        moment = getattr(c, k)
        row[k] = to_company(moment).isoformat(timespec="seconds") if moment else None
    return row


def _csv_cell(value: Any) -> str:
    """A CSV cell: text a spreadsheet would run as a formula (= + - @ first, a phone like +86 included) keeps a
    leading apostrophe, which spreadsheets show as text; nothing else is touched."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _xlsx(rows: list[dict[str, Any]], headers: list[str]) -> bytes:
    """The export as XLSX: every text cell is stored as text (never a formula), so a phone +86… needs no prefix."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("customers")
    ws.append(headers)
    for row in rows:
        cells = []
        for column in EXPORT_COLUMNS:
            value = row.get(column)
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # "=cmd|…" stays the text it is
            cells.append(cell)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


EXPORT_LABELS = {"id": _l("ID"), "last_follow_up_at": _l("Last follow-up"), "created_at": _l("Created")}


def export_headers(keys: bool) -> list[str]:
    """The export's header row: the column keys in English or with `keys`, else each column's label in the
    reader's language (名称, 行业, …), which the import reads back (choices.import_headers)."""
    if keys or english():
        return list(EXPORT_COLUMNS)
    return [str(EXPORT_LABELS.get(k) or choices.FIELD_LABELS[k]) for k in EXPORT_COLUMNS]


def _export(query: Select, fmt: str, keys: bool) -> Response:
    rows = [export_row(c, keys) for c in db.session.scalars(query.limit(MAX_EXPORT_ROWS))]
    if fmt == "xlsx":
        body, mime = _xlsx(rows, export_headers(keys)), XLSX
    else:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(export_headers(keys))
        writer.writerows([_csv_cell(row.get(k)) for k in EXPORT_COLUMNS] for row in rows)
        body, mime = ("\ufeff" + out.getvalue()).encode(), "text/csv; charset=utf-8"
    return Response(body, mimetype=mime,
                    headers={"Content-Disposition": f'attachment; filename="customers.{fmt}"'})


def _render_list(args: dict, import_errors: list[dict] | None = None, import_message: str | None = None,
                 status: int = 200) -> tuple[str, int]:
    query = search_customers(crm_viewer(), args.get("q"), args.get("level"), args.get("industry"), args.get("region"))
    total, more = capped_count(db.session, query)  # past 10,000 shown as "10,000+"
    rows = db.session.scalars(query.limit(PER_PAGE + 1).offset((args["page"] - 1) * PER_PAGE)).all()
    pages = max(pages_of(total), args["page"] + (len(rows) > PER_PAGE))
    filters = {k: args[k] for k in ("q", "level", "industry", "region") if args.get(k)}
    return render_template("crm/customers.html", rows=rows[:PER_PAGE], total=total, total_more=more, args=args,
                           page=args["page"], pages=pages, filters=filters, import_errors=import_errors or [],
                           import_message=import_message, max_import_rows=MAX_IMPORT_ROWS,
                           import_columns=[(k, choices.field_label(k)) for k in choices.IMPORT_COLUMNS],
                           max_import_mb=MAX_FILE_BYTES // 2**20), status


@bp.get("/customers")
def customers() -> Any:
    """My customers (and my team's and those shared with me), searchable and filtered; `?format=csv|xlsx`
    downloads the whole filtered list."""
    args = query_args(CustomerSearch)
    if args.get("format"):
        query = search_customers(crm_viewer(), args.get("q"), args.get("level"), args.get("industry"),
                                 args.get("region"))
        return _export(query, args["format"], bool(args.get("keys")))
    return _render_list(args)


@bp.post("/customers/import")
def import_customers_file() -> Any:
    """Import customers from an uploaded CSV/XLSX: all rows or none; every bad row is listed on the page."""
    v = crm_viewer()
    upload = request.files.get("file")
    args = {"page": 1}
    if upload is None or not upload.filename:
        return _render_list(args, [{"row": "", "field": "file", "message": _("Choose a CSV or XLSX file.")}],
                            status=422)
    try:
        rows = read_table(upload.filename, upload.read(MAX_FILE_BYTES + 1))
        any_rows(rows)
        created = import_customers(db.session, v, rows, choices.import_aliases(), choices.import_headers())
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        report = [{**e, "message": error_text(e.get("message"))} for e in err.errors or [] if isinstance(e, dict)] \
            or [{"message": error_text(err.detail)}]
        return _render_list(args, report, error_text(err.detail), err.status if err.status < 500 else 422)
    flash(_("%(n)s customers imported.", n=len(created)), "ok")
    return redirect(url_for("web.customers"))


# ------------------------------------------------------------------ create and edit
class CustomerForm(Schema):
    """The customer form (create and edit); the selects offer the listed values, the caps are the API's."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    industry = fields.String(validate=validate.Length(max=100))
    region = fields.String(validate=validate.Length(max=100))
    level = fields.String(validate=validate.OneOf(customers_svc.LEVELS))
    source = fields.String(validate=validate.Length(max=100))
    phone = fields.String(validate=validate.Length(max=50))


def _form(values: dict, errors: dict, customer: Customer | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("crm/customer_form.html", values=values, errors=errors, c=customer), status


@bp.get("/customers/new")
def new_customer() -> tuple[str, int]:
    """The form to add a customer."""
    return _form({}, {})


@bp.post("/customers/new")
def create_customer() -> Any:
    """Create a customer owned by me; duplicates and bad fields are shown on the form."""
    data, errors, raw = load_form(CustomerForm())
    if errors:
        return _form(raw, errors, status=422)
    try:
        row = customers_svc.create_customer(db.session, crm_viewer(), data)
        db.session.commit()
    except (InvalidData, Conflict) as err:
        db.session.rollback()
        return _form(raw, field_errors(err), status=err.status)
    flash(_("Customer created."), "ok")
    return redirect(url_for("web.customer", customer_id=row.id))


@bp.get("/customers/<int:customer_id>/edit")
def edit_customer(customer_id: int) -> tuple[str, int]:
    """The edit form of a customer I may change (404 outside my scope, 403 read-only)."""
    c = get_customer(db.session, crm_viewer(), customer_id, edit=True)
    return _form({k: getattr(c, k) or "" for k in customers_svc.FIELDS}, {}, c)


@bp.post("/customers/<int:customer_id>/edit")
def update_customer(customer_id: int) -> Any:
    """Save a customer's fields (audited); a field left empty is cleared, errors stay on the form."""
    v = crm_viewer()
    c = get_customer(db.session, v, customer_id, edit=True)
    data, errors, raw = load_form(CustomerForm())
    if errors:
        return _form(raw, errors, c, 422)
    data = {k: data.get(k) for k in customers_svc.FIELDS}
    try:
        customers_svc.update_customer(db.session, v, customer_id, data)
        db.session.commit()
    except (InvalidData, Conflict) as err:
        db.session.rollback()
        return _form(raw, field_errors(err), get_customer(db.session, v, customer_id), err.status)
    flash(_("Customer saved."), "ok")
    return redirect(url_for("web.customer", customer_id=customer_id))


# ------------------------------------------------------------------ the customer page
def eligible_reps(exclude: str | None) -> list[User]:
    """Active people a customer can be transferred to: the sales group (and administrators), by name."""
    query = (select(User).where(User.active.is_(True), User.groups.any(Group.name == "sales"))
             .order_by(User.display_name, User.username).limit(MAX_REPS))
    return [u for u in db.session.scalars(query) if u.username != exclude]


def render_customer(customer: Customer, values: dict | None = None, errors: dict | None = None,
                    status: int = 200, contact_values: dict | None = None, contact_errors: dict | None = None,
                    transfer_errors: dict | None = None) -> tuple[str, int]:
    """The customer page, with the given form values and errors shown inline."""
    v = crm_viewer()
    cid = customer.id
    may_move = customer.owner is not None and v.owns_scope(customer.owner)
    return render_template(
        "crm/customer.html", c=customer, tab="overview",
        follow_ups=db.session.scalars(follow_ups.list_query(v, {"customer_id": cid}).limit(50)).all(),
        contacts=db.session.scalars(contacts.list_query(v, {"customer_id": cid}).limit(200)).all(),
        opportunities=db.session.scalars(opportunities.list_query(v, {"customer_id": cid}).limit(100)).all(),
        contracts=db.session.scalars(contracts.list_query(v, {"customer_id": cid}).limit(100)).all(),
        tickets=db.session.scalars(tickets.list_query(v, {"customer_id": cid}).limit(50)).all(),
        sales=sales_summary(db.session, v, cid),
        can_edit=can_edit_customer(db.session, v, customer), may_move=may_move,
        reps_options=[(u.username, f"{u.display_name or u.username} ({u.username})")
                      for u in eligible_reps(customer.owner)] if may_move else [],
        values=values or {}, errors=errors or {}, contact_values=contact_values or {},
        contact_errors=contact_errors or {}, transfer_errors=transfer_errors or {}, now=utcnow()), status


@bp.get("/customers/<int:customer_id>")
def customer(customer_id: int) -> tuple[str, int]:
    """A customer with its contacts, follow-ups, opportunities, contracts and tickets (404 outside my scope)."""
    return render_customer(get_customer(db.session, crm_viewer(), customer_id))


class FollowUpForm(Schema):
    """The add-a-follow-up form on the customer page."""

    class Meta:
        unknown = RAISE

    type = fields.String(required=True, validate=validate.OneOf(follow_ups.TYPES))
    content = fields.String(required=True, validate=validate.Length(min=1, max=10_000))
    next_follow_up_date = fields.Date()
    satisfaction = fields.Integer(validate=validate.Range(min=1, max=5))


@bp.post("/customers/<int:customer_id>/follow-ups")
def add_follow_up(customer_id: int) -> Any:
    """Record a follow-up on a customer I may edit; field errors re-render the customer page."""
    v = crm_viewer()
    found = get_customer(db.session, v, customer_id, edit=True)
    data, errors, raw = load_form(FollowUpForm())
    if errors:
        return render_customer(found, raw, errors, 422)
    try:
        follow_ups.add_follow_up(db.session, v, {**data, "customer_id": customer_id})
        db.session.commit()
    except InvalidData as err:
        db.session.rollback()
        return render_customer(get_customer(db.session, v, customer_id), raw, field_errors(err), 422)
    flash(_("Follow-up recorded."), "ok")
    return redirect(url_for("web.customer", customer_id=customer_id) + "#follow-ups")
