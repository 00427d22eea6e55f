"""Sales orders: create, change while draft or rejected, submit to the `sales_order_approval` flow, read with
lines and approval rounds; a customer's sales summary and (finance) credit limit."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import fields, validate

from api.auth import current_actor, current_user, login_required
from api.extensions import db
from api.http import json_body, query_args
from api.routes._crm_common import ListArgs, done, list_response, viewer
from api.routes.quotes import lines_field
from api.schemas import Strict
from api.state import get_engine
from crm import audit
from crm import orders as svc
from crm.access import get_customer, viewer_for
from crm.common import num
from crm.invoices import sales_summary
from engine.runtime import begin_write
from oa.org import OrgDirectory
from store.errors import Conflict, Forbidden, InvalidData, NotFound

bp = Blueprint("orders", __name__)
COLUMNS = ("id", "number", "customer_id", "opportunity_id", "quote_id", "owner", "status", "payment_terms",
           "subtotal", "discount_total", "tax", "total", "round", "instance_id", "submitted_at", "confirmed_at",
           "created_at")
FINANCE_GROUP = "finance"


class OrderIn(Strict):
    customer_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    opportunity_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    lines = lines_field(True)
    payment_terms = fields.String(validate=validate.OneOf(svc.TERMS))
    note = fields.String(allow_none=True, validate=validate.Length(max=4000))


class OrderPatch(Strict):
    lines = lines_field(False)
    payment_terms = fields.String(validate=validate.OneOf(svc.TERMS))
    note = fields.String(allow_none=True, validate=validate.Length(max=4000))


class SubmitIn(Strict):
    pass


class CreditLimitIn(Strict):
    credit_limit = fields.Decimal(required=True, allow_none=True, validate=validate.Range(min=0, max=10**11))


class OrderListArgs(ListArgs):
    customer_id = fields.Integer(validate=validate.Range(min=1))
    opportunity_id = fields.Integer(validate=validate.Range(min=1))
    status = fields.String(validate=validate.OneOf(svc.STATUSES))
    owner = fields.String(validate=validate.Length(max=100))


def _full(order) -> dict:  # noqa: ANN001
    return svc.order_dict(order, svc.lines_of_order(db.session, order)) | {
        "rounds": [svc.round_dict(r) for r in svc.rounds_of(db.session, order)]}


@bp.get("/orders")
@login_required
def list_orders():  # noqa: ANN201
    """Orders the caller sees (filters customer_id, opportunity_id, status, owner), JSON pages or CSV/XLSX."""
    args = query_args(OrderListArgs)
    return list_response("orders", svc.list_query(viewer(), args), args, svc.order_dict, COLUMNS)


@bp.post("/orders")
@login_required
def create():  # noqa: ANN201
    """Create a draft order directly for a customer the caller may edit."""
    body = json_body(OrderIn)
    begin_write(db.session)  # SQLite: take the write lock up front (a read cannot be upgraded)
    return done(_full(svc.create_order(db.session, viewer(), body)), 201)


create.openapi_body = OrderIn


@bp.get("/orders/<int:order_id>")
@login_required
def get_one(order_id: int) -> dict:
    """One order with its lines and approval rounds."""
    return _full(svc.get_order(db.session, viewer(), order_id))


@bp.patch("/orders/<int:order_id>")
@login_required
def update(order_id: int):  # noqa: ANN201
    """Change a draft or rejected order (lines, payment terms, note); 409 while pending or once decided."""
    body = json_body(OrderPatch)
    begin_write(db.session)  # SQLite: take the write lock up front (a read cannot be upgraded)
    try:
        return done(_full(svc.update_order(db.session, viewer(), order_id, body)))
    except NotFound:  # a write's viewer counts no task grants: who reads the order through a task gets 403
        reader = viewer_for(db.session, current_user(), via_tasks=True)
        svc.get_order(db.session, reader, order_id)  # 404 stays 404 for who cannot read it at all
        raise Forbidden(f"you may read order {order_id} but not change it") from None


update.openapi_body = OrderPatch


@bp.post("/orders/<int:order_id>/submit")
@login_required
def submit(order_id: int):  # noqa: ANN201
    """Start `sales_order_approval` for a draft order the caller may edit (business key `order:<id>`); the
    order turns pending in the same step. 409 unless draft (or while another submission runs)."""
    json_body(SubmitIn)
    begin_write(db.session)  # SQLite: submissions take turns; PostgreSQL: check_submittable locks the order row
    order = svc.check_submittable(db.session, viewer(), order_id)
    try:
        get_engine().start(db.session, svc.PROCESS_KEY, current_actor(), {"order_id": order.id},
                           business_key=f"order:{order.id}")
    except InvalidData as err:  # another submission got there first: the start check saw it pending
        if any(e.get("field") == "order_id" for e in err.errors or []):
            raise Conflict(f"order {order.number} was submitted meanwhile") from err
        raise
    db.session.expire_all()
    return _full(svc.get_order(db.session, viewer(), order_id))


submit.openapi_body = SubmitIn


@bp.get("/customers/<int:customer_id>/sales")
@login_required
def customer_sales(customer_id: int) -> dict:
    """A customer's orders, invoices, payments, credit limit and outstanding balance."""
    return sales_summary(db.session, viewer(), customer_id)


@bp.put("/customers/<int:customer_id>/credit-limit")
@login_required
def credit_limit(customer_id: int):  # noqa: ANN201
    """Set (or clear, with null) a customer's credit limit: finance or administrators only."""
    body = json_body(CreditLimitIn)
    begin_write(db.session)  # SQLite: take the write lock up front (a read cannot be upgraded)
    v = viewer()
    if not (v.is_admin or FINANCE_GROUP in OrgDirectory(db.session).groups_of(v.username)):
        raise Forbidden("only finance sets credit limits")
    from crm.models import Customer
    customer = get_customer(db.session, v.__class__(v.username, True), customer_id)
    customer = db.session.get(Customer, customer.id)
    changes = audit.apply_changes(customer, {"credit_limit": body["credit_limit"]})
    if changes:
        audit.record(db.session, "customer", customer.id, v.username, "credit_limit", changes)
    return done({"customer_id": customer.id, "credit_limit": None if customer.credit_limit is None
                 else num(customer.credit_limit)})


credit_limit.openapi_body = CreditLimitIn
