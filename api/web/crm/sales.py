"""Sales pages: orders (list, detail, create for a customer, edit while draft or rejected, submit for approval)
and invoices (list, detail).

Thin views over crm.orders / crm.invoices with the logged-in user as the crm Viewer, exactly as the v1 API:
another rep's order is 404, bad input is shown on the field (4xx), submitting starts `sales_order_approval`
like POST /api/v1/orders/<id>/submit.
"""

from __future__ import annotations

import re
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import func, select

from api.extensions import db
from api.http import query_args
from api.state import get_engine
from api.web.blueprint import bp
from api.web.common.error_text import error_text
from api.web.common.forms import load_form
from api.web.common.queries import count as count_rows
from api.web.common.session import actor
from api.web.crm.pages import crm_viewer
from crm import contracts as contracts_svc
from crm import invoices as invoices_svc
from crm import orders as orders_svc
from crm import products as products_svc
from crm.access import can_read_customer, get_customer, reads_all_sales
from crm.models import Customer, Invoice, Product, ReceivablePlan, SalesOrder
from crm.pricing import MAX_LINES as MAX_ORDER_LINES  # the edit form shows an order's every line
from store.errors import DomainError

PER_PAGE = 25
MAX_LINES = 5  # order-form rows (the API caps the lines too)
ORDER_STATUS_LABELS = {"draft": _l("Draft"), "pending": _l("Pending approval"), "confirmed": _l("Confirmed"),
                       "rejected": _l("Rejected"), "cancelled": _l("Cancelled"), "withdrawn": _l("Withdrawn")}
TERM_LABELS = {"prepaid": _l("Prepaid"), "net30": _l("Net 30 days"), "net60": _l("Net 60 days"),
               "30_70": _l("30% now, 70% in 60 days")}


def plan_note(plan: ReceivablePlan | dict[str, Any]) -> str:
    """A receivable plan's note in the reader's language: an instalment of a confirmed order is worded from the
    order's number and its payment terms ("订单 SO-2026-0003，预付"); any other note is what a person typed. Takes
    the plan or its crm.contracts.plan_dict."""
    if isinstance(plan, dict):
        number, terms, note = plan.get("order_number"), plan.get("payment_terms"), plan.get("note")
        typed = note if not number or note != contracts_svc.plan_order_note(number, terms or "") else None
    else:
        order = plan.order
        number, terms, typed = (order.number, order.payment_terms, plan.note) if order else (None, None, plan.note)
    if typed or not number:
        return typed or ""
    shown = TERM_LABELS.get(terms or "")
    return _("Order %(number)s, %(terms)s", number=number, terms=str(shown) if shown is not None else terms)


_ORDER_CONTRACT_TITLE = re.compile(r"Order (SO-\d{4}-\d{1,10})")  # what crm.orders.confirm names the contract


def contract_title(contract: Any) -> str:
    """A contract's title in the reader's language: the one a confirmed order made ("Order SO-2026-0006") is
    worded from the order's number (订单 SO-2026-0006); any other title is what a person typed."""
    title = str(getattr(contract, "title", None) or "")
    found = _ORDER_CONTRACT_TITLE.fullmatch(title)
    return str(_("Order %(number)s", number=found.group(1))) if found else title


@bp.app_context_processor
def _sales_globals() -> dict:
    return {"order_status_labels": ORDER_STATUS_LABELS, "term_labels": TERM_LABELS, "plan_note": plan_note,
            "contract_title": contract_title}


def customer_names(ids: set[int]) -> dict[int, str]:
    """Customer names by id (for lists whose rows are already in the viewer's scope)."""
    if not ids:
        return {}
    return dict(db.session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids))).all())


# ------------------------------------------------------------------ orders
class OrderSearch(Schema):
    """Query arguments of the order list."""

    class Meta:
        unknown = RAISE

    q = fields.String(validate=validate.Length(max=50))
    status = fields.String(validate=validate.OneOf(("", *orders_svc.STATUSES)))
    customer_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


@bp.get("/orders")
def orders() -> str:
    """Orders in my scope, filtered by status and customer, searched by number."""
    args = query_args(OrderSearch)
    query = orders_svc.list_query(crm_viewer(), {"status": args.get("status") or None,
                                                 "customer_id": args.get("customer_id")})
    text = (args.get("q") or "").strip()
    if text:
        query = query.where(func.upper(SalesOrder.number).contains(text.upper(), autoescape=True))
    query = query.order_by(None).order_by(SalesOrder.id.desc())
    total = count_rows(db.session, query)
    rows = db.session.scalars(query.limit(PER_PAGE).offset((args["page"] - 1) * PER_PAGE)).all()
    return render_template("crm/orders.html", rows=rows, total=total, args=args, page=args["page"],
                           pages=max(1, -(-total // PER_PAGE)), names=customer_names({o.customer_id for o in rows}),
                           statuses=orders_svc.STATUSES)


@bp.get("/orders/<int:order_id>")
def order(order_id: int) -> str:
    """An order: lines, totals, status, its approval instance, invoices and payment plan (404 outside my scope)."""
    v = crm_viewer()
    row = orders_svc.get_order(db.session, v, order_id)
    lines = orders_svc.lines_of_order(db.session, row)
    products = {p.id: p for p in db.session.scalars(
        select(Product).where(Product.id.in_({ln.product_id for ln in lines}))).all()} if lines else {}
    invoices = db.session.scalars(invoices_svc.list_query(v, {"order_id": row.id}).limit(100)).all()
    plans = db.session.scalars(select(ReceivablePlan).where(ReceivablePlan.contract_id == row.contract_id)
                               .order_by(ReceivablePlan.due_date).limit(100)).all() if row.contract_id else []
    customer = db.session.get(Customer, row.customer_id)
    # the customer link only for who may open the customer page (finance reads every order, not every customer:
    # it gets the customer's credit and balance here instead, as GET /api/v1/customers/<id>/sales gives it)
    customer_link = customer is not None and can_read_customer(db.session, v, customer)
    balance = invoices_svc.balance_of(db.session, customer) if reads_all_sales(v) and customer is not None else None
    can_edit = row.status in orders_svc.EDITABLE and _may_edit(row)
    can_submit = row.status == "draft" and _may_submit(row)  # owner of the order or the customer, or their manager
    return render_template("crm/order.html", o=row, lines=lines, products=products, invoices=invoices, plans=plans,
                           rounds=orders_svc.rounds_of(db.session, row), can_submit=can_submit, can_edit=can_edit,
                           customer_link=customer_link, balance=balance, not_yet_owed=orders_svc.NOT_YET_OWED,
                           customer_name=customer_names({row.customer_id}).get(row.customer_id, ""))


def _may_edit(row: SalesOrder) -> bool:
    try:
        orders_svc.get_order(db.session, crm_viewer(), row.id, edit=True)
    except DomainError:
        return False
    return True


def _may_submit(row: SalesOrder) -> bool:
    try:
        orders_svc.check_submittable(db.session, crm_viewer(), row.id)
    except DomainError:
        return False
    return True


class LineForm(Schema):
    """One order line as typed on the form (unit price blank = list price)."""

    class Meta:
        unknown = RAISE

    product_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    quantity = fields.Decimal(required=True, validate=validate.Range(min=0, min_inclusive=False, max=10**9))
    unit_price = fields.Decimal(validate=validate.Range(min=0, max=10**9))
    discount = fields.Decimal(validate=validate.Range(min=0, max=100))


class OrderHead(Schema):
    """The order form without its lines."""

    class Meta:
        unknown = RAISE

    payment_terms = fields.String(required=True, validate=validate.OneOf(list(orders_svc.TERMS)))
    note = fields.String(validate=validate.Length(max=4000))


def active_products(also: set[int] | None = None) -> list[Product]:
    """The active products for a line form, and the products `also` names (an edited order's own lines, even
    if inactive now: the form shows them, and saving names the line at fault)."""
    rows = list(db.session.scalars(products_svc.list_query({"active": True}).order_by(None)
                                   .order_by(Product.name).limit(500)).all())
    missing = (also or set()) - {p.id for p in rows}
    if missing:
        rows += db.session.scalars(select(Product).where(Product.id.in_(missing)).order_by(Product.name)).all()
    return rows


def _render_new(customer: Customer, values: dict, errors: dict, status: int = 200) -> tuple[str, int]:
    return render_template("crm/order_new.html", c=customer, values=values, errors=errors,
                           products=active_products(), rows=range(MAX_LINES),
                           terms=[(k, TERM_LABELS[k]) for k in orders_svc.TERMS]), status


@bp.get("/customers/<int:customer_id>/orders/new")
def new_order(customer_id: int) -> tuple[str, int]:
    """The form to create an order for a customer I may edit."""
    found = get_customer(db.session, crm_viewer(), customer_id, edit=True)
    return _render_new(found, {"payment_terms": "net30"}, {})


def parse_lines(head: Schema, rows: int = MAX_LINES, positions: list[int] | None = None,
                ) -> tuple[dict[str, Any], dict[str, str], dict[str, str], list[dict]]:
    """(head fields, errors by field (line-N-field for lines), raw values to show again, the loaded lines) of an
    order or quote form of `rows` line rows; a line row without a product is skipped, and at least one line is
    required. `positions`, if given, receives the form row of each loaded line (to place domain errors)."""
    data, errors, raw = load_form(head, skip={k for k in request.form if k.startswith("line-")})
    raw = {**raw, **{k: val for k, val in request.form.items() if k.startswith("line-")}}
    lines: list[dict] = []
    for n in range(rows):
        row = {k: (request.form.get(f"line-{n}-{k}") or "").strip()
               for k in ("product_id", "quantity", "unit_price", "discount")}
        if not row["product_id"]:
            continue
        if any("\x00" in val for val in row.values()):
            errors[f"line-{n}-product_id"] = _("must not contain NUL characters")
            continue
        try:
            lines.append(LineForm().load({k: val for k, val in row.items() if val}))
            if positions is not None:
                positions.append(n)
        except ValidationError as err:
            for key, msgs in err.messages_dict.items():
                errors[f"line-{n}-{key}"] = str(msgs[0] if isinstance(msgs, list) else msgs)
    if not lines and not errors:
        errors["line-0-product_id"] = _("Add at least one line.")
    return data, errors, raw, lines


@bp.post("/customers/<int:customer_id>/orders/new")
def create_order(customer_id: int) -> Any:
    """Create a draft order for the customer; bad lines and fields are shown on the form."""
    v = crm_viewer()
    found = get_customer(db.session, v, customer_id, edit=True)
    positions: list[int] = []  # the form row of each loaded line, to place the domain's lines[i] errors
    head, errors, raw, lines = parse_lines(OrderHead(), positions=positions)
    if errors:
        return _render_new(found, raw, errors, 422)
    try:
        row = orders_svc.create_order(db.session, v, {**head, "customer_id": found.id, "lines": lines})
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        return _render_new(found, raw, line_errors(err, positions), err.status if err.status < 500 else 422)
    flash(_("Order created."), "ok")
    return redirect(url_for("web.order", order_id=row.id))


def line_errors(err: DomainError, positions: list[int] | None = None) -> dict[str, str]:
    """Domain errors keyed like the form: lines[N].field -> line-R-field, R the form row of the N-th loaded line
    (`positions`; N itself without them)."""
    out: dict[str, str] = {}
    for e in err.errors or []:
        if isinstance(e, dict):
            key = str(e.get("field") or "_")
            if key.startswith("lines[") and "]" in key:
                n, _sep, rest = key[6:].partition("]")
                if positions is not None and n.isdigit() and int(n) < len(positions):
                    n = str(positions[int(n)])
                key = f"line-{n}-{rest.lstrip('.') or 'product_id'}"
            out.setdefault(key, error_text(e.get("message") or err.detail))
    return out or {"_": error_text(err.detail)}


def _edit_rows(filled: int) -> range:
    """Line rows of the edit form: the order's lines and two blank rows, at least MAX_LINES, at most what an
    order may have."""
    return range(min(MAX_ORDER_LINES, max(MAX_LINES, filled + 2)))


def _editable(order_id: int) -> SalesOrder:
    """The order, if I may change it now (404 outside my scope, 403 read only); None once it is not draft or
    rejected (the caller redirects)."""
    row = orders_svc.get_order(db.session, crm_viewer(), order_id, edit=True)
    return row if row.status in orders_svc.EDITABLE else None


def _render_edit(row: SalesOrder, values: dict, errors: dict, rows: range, status: int = 200) -> tuple[str, int]:
    used = {int(v) for k, v in values.items() if k.endswith("-product_id") and str(v).isdigit() and len(v) < 10}
    return render_template("crm/order_new.html", o=row, c=db.session.get(Customer, row.customer_id), values=values,
                           errors=errors, products=active_products(used), rows=rows,
                           terms=[(k, TERM_LABELS[k]) for k in orders_svc.TERMS]), status


@bp.get("/orders/<int:order_id>/edit")
def edit_order(order_id: int) -> Any:
    """The lines form of a draft or rejected order I may change (the customer's edit access, now)."""
    row = _editable(order_id)
    if row is None:
        flash(_("Only a draft or rejected order can be changed."), "error")
        return redirect(url_for("web.order", order_id=order_id))
    lines = orders_svc.lines_of_order(db.session, row)
    values: dict[str, str] = {"payment_terms": row.payment_terms, "note": row.note or ""}
    for n, ln in enumerate(lines):
        values |= {f"line-{n}-product_id": str(ln.product_id), f"line-{n}-quantity": f"{ln.quantity.normalize():f}",
                   f"line-{n}-unit_price": f"{ln.unit_price:f}", f"line-{n}-discount": f"{ln.discount.normalize():f}"}
    return _render_edit(row, values, {}, _edit_rows(len(lines)))


@bp.post("/orders/<int:order_id>/edit")
def save_order(order_id: int) -> Any:
    """Save the lines, payment terms and note of a draft or rejected order (as PATCH /api/v1/orders/<id>); bad
    lines and fields are shown on the form, an order submitted meanwhile is refused (409) on the page."""
    row = _editable(order_id)
    if row is None:
        flash(_("Only a draft or rejected order can be changed."), "error")
        return redirect(url_for("web.order", order_id=order_id))
    positions: list[int] = []
    head, errors, raw, lines = parse_lines(OrderHead(), MAX_ORDER_LINES, positions)
    filled = [int(k.split("-")[1]) for k, v in raw.items() if k.startswith("line-") and k.endswith("-product_id")
              and v and k.split("-")[1].isdigit()]
    rows = _edit_rows(max(filled, default=-1) + 1)
    if errors:
        return _render_edit(row, raw, errors, rows, 422)
    try:
        orders_svc.update_order(db.session, crm_viewer(), row.id, {
            "payment_terms": head["payment_terms"], "note": head.get("note"), "lines": lines})
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        if err.status == 404:
            raise
        return _render_edit(row, raw, line_errors(err, positions), rows, err.status if err.status < 500 else 422)
    flash(_("Order saved."), "ok")
    return redirect(url_for("web.order", order_id=row.id))


@bp.post("/orders/<int:order_id>/submit")
def submit_order(order_id: int) -> Any:
    """Submit a draft order for approval (as POST /api/v1/orders/<id>/submit); a refusal is shown on the page."""
    try:
        row = orders_svc.check_submittable(db.session, crm_viewer(), order_id)
        get_engine().start(db.session, orders_svc.PROCESS_KEY, actor(), {"order_id": row.id},
                           business_key=f"order:{row.id}")
    except DomainError as err:
        db.session.rollback()
        if err.status == 404:
            raise
        flash(error_text(err.detail), "error")
        return redirect(url_for("web.order", order_id=order_id))
    flash(_("Order submitted for approval."), "ok")
    return redirect(url_for("web.order", order_id=order_id))


# ------------------------------------------------------------------ invoices
class InvoiceSearch(Schema):
    """Query arguments of the invoice list."""

    class Meta:
        unknown = RAISE

    customer_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


@bp.get("/invoices")
def invoices() -> str:
    """Invoices in my scope, newest first."""
    args = query_args(InvoiceSearch)
    query = invoices_svc.list_query(crm_viewer(), {"customer_id": args.get("customer_id")})
    query = query.order_by(None).order_by(Invoice.id.desc())
    total = count_rows(db.session, query)
    rows = db.session.scalars(query.limit(PER_PAGE).offset((args["page"] - 1) * PER_PAGE)).all()
    numbers = dict(db.session.execute(select(SalesOrder.id, SalesOrder.number)
                                      .where(SalesOrder.id.in_({i.order_id for i in rows}))).all()) if rows else {}
    return render_template("crm/invoices.html", rows=rows, total=total, args=args, page=args["page"],
                           pages=max(1, -(-total // PER_PAGE)), numbers=numbers,
                           names=customer_names({i.customer_id for i in rows}))


@bp.get("/invoices/<int:invoice_id>")
def invoice(invoice_id: int) -> str:
    """One invoice (404 outside my scope)."""
    row = invoices_svc.get_invoice(db.session, crm_viewer(), invoice_id)
    o = db.session.get(SalesOrder, row.order_id)
    return render_template("crm/invoice.html", i=row, o=o,
                           customer_name=customer_names({row.customer_id}).get(row.customer_id, ""))
