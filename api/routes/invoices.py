"""Invoices of confirmed orders: list, read, and issue one by hand (finance or administrators; the approval flow
issues them from its invoice task)."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import fields, validate

from api.auth import login_required
from api.extensions import db
from api.http import json_body, query_args
from api.routes._crm_common import ListArgs, done, list_response, viewer
from api.schemas import Strict
from crm import invoices as svc
from crm.orders import get_order
from engine.runtime import begin_write
from oa.org import OrgDirectory
from store.errors import Forbidden, InvalidData, NotFound

bp = Blueprint("invoices", __name__)
COLUMNS = ("id", "number", "order_id", "customer_id", "amount", "tax", "issued_on", "issued_by")


class InvoiceIn(Strict):
    order_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    amount = fields.Decimal(allow_none=True, validate=validate.Range(min=0, min_inclusive=False, max=10**12 - 1))
    issued_on = fields.Date()


class InvoiceListArgs(ListArgs):
    order_id = fields.Integer(validate=validate.Range(min=1))
    customer_id = fields.Integer(validate=validate.Range(min=1))


@bp.get("/invoices")
@login_required
def list_invoices():  # noqa: ANN201
    """Invoices of the orders the caller sees, JSON pages or `?format=csv|xlsx`."""
    args = query_args(InvoiceListArgs)
    return list_response("invoices", svc.list_query(viewer(), args), args, svc.invoice_dict, COLUMNS)


@bp.get("/invoices/<int:invoice_id>")
@login_required
def get_one(invoice_id: int) -> dict:
    """One invoice."""
    return svc.invoice_dict(svc.get_invoice(db.session, viewer(), invoice_id))


@bp.post("/invoices")
@login_required
def issue():  # noqa: ANN201
    """Issue an invoice for a confirmed order (finance or administrators; at most what is left to invoice)."""
    body = json_body(InvoiceIn)
    begin_write(db.session)  # SQLite: take the write lock up front (a read cannot be upgraded)
    v = viewer()
    if not (v.is_admin or "finance" in OrgDirectory(db.session).groups_of(v.username)):
        raise Forbidden("only finance issues invoices")
    try:
        order = get_order(db.session, v.__class__(v.username, True), body["order_id"])
    except NotFound:
        raise InvalidData("unknown order", errors=[{"field": "order_id", "message": "unknown order"}]) from None
    invoice = svc.issue_invoice(db.session, order.id, v.username, body.get("issued_on"), body.get("amount"))
    return done(svc.invoice_dict(invoice), 201)


issue.openapi_body = InvoiceIn
