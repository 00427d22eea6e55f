"""Sales pages: orders (list, detail, create for a customer, submit for approval) and invoices (list, detail).

Thin views over crm.orders / crm.invoices with the logged-in user as the crm Viewer, exactly as the v1 API:
another rep's order is 404, bad input is shown on the field (4xx), submitting starts `sales_order_approval`
like POST /api/v1/orders/<id>/submit.
"""

from __future__ import annotations

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
from api.web.common.forms import load_form
from api.web.common.session import actor
from api.web.crm.pages import crm_viewer
from crm import invoices as invoices_svc
from crm import orders as orders_svc
from crm import products as products_svc
from crm.access import get_customer
from crm.models import Customer, Invoice, Product, ReceivablePlan, SalesOrder
from store.errors import DomainError

PER_PAGE = 25
MAX_LINES = 5  # order-form rows (the API caps the lines too)
ORDER_STATUS_LABELS = {"draft": _l("Draft"), "pending": _l("Pending approval"), "confirmed": _l("Confirmed"),
                       "rejected": _l("Rejected"), "cancelled": _l("Cancelled")}
TERM_LABELS = {"prepaid": _l("Prepaid"), "net30": _l("Net 30 days"), "net60": _l("Net 60 days"),
               "30_70": _l("30% now, 70% in 60 days")}


@bp.app_context_processor
def _sales_globals() -> dict:
    return {"order_status_labels": ORDER_STATUS_LABELS, "term_labels": TERM_LABELS}


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
    total = db.session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0
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
    can_submit = row.status == "draft" and v.owns_scope(row.owner) and _may_edit(row)  # owner or their manager
    return render_template("crm/order.html", o=row, lines=lines, products=products, invoices=invoices, plans=plans,
                           rounds=orders_svc.rounds_of(db.session, row), can_submit=can_submit,
                           customer_name=customer_names({row.customer_id}).get(row.customer_id, ""))


def _may_edit(row: SalesOrder) -> bool:
    try:
        orders_svc.get_order(db.session, crm_viewer(), row.id, edit=True)
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


def active_products() -> list[Product]:
    return db.session.scalars(products_svc.list_query({"active": True}).order_by(None)
                              .order_by(Product.name).limit(500)).all()


def _render_new(customer: Customer, values: dict, errors: dict, status: int = 200) -> tuple[str, int]:
    return render_template("crm/order_new.html", c=customer, values=values, errors=errors,
                           products=active_products(), rows=range(MAX_LINES),
                           terms=[(k, TERM_LABELS[k]) for k in orders_svc.TERMS]), status


@bp.get("/customers/<int:customer_id>/orders/new")
def new_order(customer_id: int) -> tuple[str, int]:
    """The form to create an order for a customer I may edit."""
    found = get_customer(db.session, crm_viewer(), customer_id, edit=True)
    return _render_new(found, {"payment_terms": "net30"}, {})


def parse_lines(head: Schema) -> tuple[dict[str, Any], dict[str, str], dict[str, str], list[dict]]:
    """(head fields, errors by field (line-N-field for lines), raw values to show again, the loaded lines) of an
    order or quote form; a line row without a product is skipped, and at least one line is required."""
    data, errors, raw = load_form(head, skip={k for k in request.form if k.startswith("line-")})
    raw = {**raw, **{k: val for k, val in request.form.items() if k.startswith("line-")}}
    lines: list[dict] = []
    for n in range(MAX_LINES):
        row = {k: (request.form.get(f"line-{n}-{k}") or "").strip()
               for k in ("product_id", "quantity", "unit_price", "discount")}
        if not row["product_id"]:
            continue
        if any("\x00" in val for val in row.values()):
            errors[f"line-{n}-product_id"] = _("must not contain NUL characters")
            continue
        try:
            lines.append(LineForm().load({k: val for k, val in row.items() if val}))
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
    head, errors, raw, lines = parse_lines(OrderHead())
    if errors:
        return _render_new(found, raw, errors, 422)
    try:
        row = orders_svc.create_order(db.session, v, {**head, "customer_id": found.id, "lines": lines})
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        return _render_new(found, raw, line_errors(err), err.status if err.status < 500 else 422)
    flash(_("Order created."), "ok")
    return redirect(url_for("web.order", order_id=row.id))


def line_errors(err: DomainError) -> dict[str, str]:
    """Domain errors keyed like the form: lines[N].field -> line-N-field."""
    out: dict[str, str] = {}
    for e in err.errors or []:
        if isinstance(e, dict):
            key = str(e.get("field") or "_")
            if key.startswith("lines[") and "]" in key:
                n, _sep, rest = key[6:].partition("]")
                key = f"line-{n}-{rest.lstrip('.') or 'product_id'}"
            out.setdefault(key, str(e.get("message") or err.detail))
    return out or {"_": str(err.detail)}


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
        flash(str(err.detail), "error")
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
    total = db.session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0
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
