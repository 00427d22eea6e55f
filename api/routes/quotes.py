"""Quotes: priced lines for a customer (or from an opportunity), and turning one into a sales order."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import fields, validate

from api.auth import login_required
from api.extensions import db
from api.http import json_body, query_args
from api.routes._crm_common import ListArgs, done, list_response, viewer
from api.schemas import Strict
from crm import orders as orders_svc
from crm import quotes as svc
from crm.pricing import MAX_LINES
from engine.runtime import begin_write

bp = Blueprint("quotes", __name__)
COLUMNS = ("id", "number", "customer_id", "opportunity_id", "owner", "status", "tax_rate", "subtotal",
           "discount_total", "tax", "total", "created_at")


class LineIn(Strict):
    product_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    quantity = fields.Decimal(required=True, validate=validate.Range(min=0, min_inclusive=False, max=10**9))
    unit_price = fields.Decimal(allow_none=True, validate=validate.Range(min=0, max=10**9))
    discount = fields.Decimal(validate=validate.Range(min=0, max=100))


def lines_field(required: bool) -> fields.List:
    """A list of order/quote lines, 1 to MAX_LINES."""
    return fields.List(fields.Nested(LineIn), required=required,
                       validate=validate.Length(min=1, max=MAX_LINES))


class QuoteIn(Strict):
    customer_id = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    opportunity_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    lines = lines_field(True)
    note = fields.String(allow_none=True, validate=validate.Length(max=4000))


class QuotePatch(Strict):
    lines = lines_field(False)
    note = fields.String(allow_none=True, validate=validate.Length(max=4000))


class QuoteOrderIn(Strict):
    payment_terms = fields.String(validate=validate.OneOf(orders_svc.TERMS))
    note = fields.String(allow_none=True, validate=validate.Length(max=4000))


class QuoteListArgs(ListArgs):
    customer_id = fields.Integer(validate=validate.Range(min=1))
    opportunity_id = fields.Integer(validate=validate.Range(min=1))
    status = fields.String(validate=validate.OneOf(svc.STATUSES))
    owner = fields.String(validate=validate.Length(max=100))


@bp.get("/quotes")
@login_required
def list_quotes():  # noqa: ANN201
    """Quotes the caller sees, as JSON pages or `?format=csv|xlsx`."""
    args = query_args(QuoteListArgs)
    return list_response("quotes", svc.list_query(viewer(), args), args, svc.quote_dict, COLUMNS)


@bp.post("/quotes")
@login_required
def create():  # noqa: ANN201
    """Create a quote for a customer the caller may edit (or from one of its opportunities)."""
    body = json_body(QuoteIn)
    begin_write(db.session)  # SQLite: take the write lock up front (a read cannot be upgraded)
    quote = svc.create_quote(db.session, viewer(), body)
    return done(svc.quote_dict(quote, svc.lines_of(db.session, quote)), 201)


create.openapi_body = QuoteIn


@bp.get("/quotes/<int:quote_id>")
@login_required
def get_one(quote_id: int) -> dict:
    """One quote with its lines."""
    quote = svc.get_quote(db.session, viewer(), quote_id)
    return svc.quote_dict(quote, svc.lines_of(db.session, quote))


@bp.patch("/quotes/<int:quote_id>")
@login_required
def update(quote_id: int):  # noqa: ANN201
    """Change a draft quote's lines or note (audited)."""
    body = json_body(QuotePatch)
    begin_write(db.session)  # SQLite: take the write lock up front (a read cannot be upgraded)
    quote = svc.update_quote(db.session, viewer(), quote_id, body)
    return done(svc.quote_dict(quote, svc.lines_of(db.session, quote)))


update.openapi_body = QuotePatch


@bp.post("/quotes/<int:quote_id>/order")
@login_required
def to_order(quote_id: int):  # noqa: ANN201
    """Turn a draft quote into a sales order (once; 409 after)."""
    body = json_body(QuoteOrderIn)
    begin_write(db.session)  # SQLite: take the write lock up front (a read cannot be upgraded)
    order = orders_svc.order_from_quote(db.session, viewer(), quote_id, body)
    return done(orders_svc.order_dict(order, orders_svc.lines_of_order(db.session, order)), 201)


to_order.openapi_body = QuoteOrderIn
