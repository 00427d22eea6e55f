"""Quote pages: list, detail, create from an opportunity, turn a draft quote into an order.

Thin views over crm.quotes / crm.orders with the logged-in user as the crm Viewer (another rep's quote or
opportunity is 404), the line rows shared with the order form (api.web.crm.sales).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import select

from api.extensions import db
from api.http import query_args
from api.web.blueprint import bp
from api.web.common.error_text import error_text
from api.web.common.forms import load_form
from api.web.common.queries import count as count_rows
from api.web.crm.pages import crm_viewer
from api.web.crm.sales import (
    MAX_LINES,
    PER_PAGE,
    TERM_LABELS,
    active_products,
    customer_names,
    line_errors,
    parse_lines,
)
from crm import orders as orders_svc
from crm import quotes as quotes_svc
from crm.access import get_customer, get_opportunity
from crm.models import Opportunity, Product, Quote, SalesOrder
from store.errors import DomainError


class QuoteSearch(Schema):
    """Query arguments of the quote list."""

    class Meta:
        unknown = RAISE

    status = fields.String(validate=validate.OneOf(("", "draft", "ordered")))
    customer_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


@bp.get("/quotes")
def quotes() -> str:
    """Quotes in my scope, newest first."""
    args = query_args(QuoteSearch)
    query = quotes_svc.list_query(crm_viewer(), {"status": args.get("status") or None,
                                                 "customer_id": args.get("customer_id")})
    query = query.order_by(None).order_by(Quote.id.desc())
    total = count_rows(db.session, query)
    rows = db.session.scalars(query.limit(PER_PAGE).offset((args["page"] - 1) * PER_PAGE)).all()
    return render_template("crm/quotes.html", rows=rows, total=total, args=args, page=args["page"],
                           pages=max(1, -(-total // PER_PAGE)), names=customer_names({q.customer_id for q in rows}))


def _render_quote(quote: Quote, values: dict | None = None, errors: dict | None = None,
                  status: int = 200) -> tuple[str, int]:
    lines = quotes_svc.lines_of(db.session, quote)
    products = {p.id: p for p in db.session.scalars(
        select(Product).where(Product.id.in_({ln.product_id for ln in lines}))).all()} if lines else {}
    order_id = db.session.scalar(select(SalesOrder.id).where(SalesOrder.quote_id == quote.id)
                                 .limit(1))
    opp = db.session.get(Opportunity, quote.opportunity_id) if quote.opportunity_id else None
    return render_template("crm/quote.html", q=quote, lines=lines, products=products, order_id=order_id, opp=opp,
                           customer_name=customer_names({quote.customer_id}).get(quote.customer_id, ""),
                           terms=[(k, TERM_LABELS[k]) for k in orders_svc.TERMS],
                           values=values or {"payment_terms": "net30"}, errors=errors or {}), status


@bp.get("/quotes/<int:quote_id>")
def quote(quote_id: int) -> tuple[str, int]:
    """A quote with its lines and, once ordered, its order (404 outside my scope)."""
    return _render_quote(quotes_svc.get_quote(db.session, crm_viewer(), quote_id))


def _opportunity(opp_id: int) -> Opportunity:
    v = crm_viewer()
    opp = get_opportunity(db.session, v, opp_id)
    get_customer(db.session, v, opp.customer_id, edit=True)
    return opp


def _render_new(opp: Opportunity, values: dict, errors: dict, status: int = 200) -> tuple[str, int]:
    return render_template("crm/quote_new.html", opp=opp, values=values, errors=errors, products=active_products(),
                           rows=range(MAX_LINES),
                           customer_name=customer_names({opp.customer_id}).get(opp.customer_id, "")), status


@bp.get("/opportunities/<int:opp_id>/quotes/new")
def new_quote(opp_id: int) -> tuple[str, int]:
    """The form to quote an opportunity of a customer I may edit."""
    return _render_new(_opportunity(opp_id), {}, {})


class QuoteHead(Schema):
    """The quote form without its lines."""

    class Meta:
        unknown = RAISE

    note = fields.String(validate=validate.Length(max=4000))


@bp.post("/opportunities/<int:opp_id>/quotes/new")
def create_quote(opp_id: int) -> Any:
    """Create a draft quote for the opportunity; bad lines are shown on the form."""
    opp = _opportunity(opp_id)
    positions: list[int] = []  # the form row of each loaded line, to place the domain's lines[i] errors
    head, errors, raw, lines = parse_lines(QuoteHead(), positions=positions)
    if errors:
        return _render_new(opp, raw, errors, 422)
    try:
        row = quotes_svc.create_quote(db.session, crm_viewer(), {**head, "opportunity_id": opp.id, "lines": lines})
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        return _render_new(opp, raw, line_errors(err, positions), err.status if err.status < 500 else 422)
    flash(_("Quote created."), "ok")
    return redirect(url_for("web.quote", quote_id=row.id))


class ToOrder(Schema):
    """Turn a quote into an order: the payment terms."""

    class Meta:
        unknown = RAISE

    payment_terms = fields.String(required=True, validate=validate.OneOf(list(orders_svc.TERMS)))


@bp.post("/quotes/<int:quote_id>/order")
def order_quote(quote_id: int) -> Any:
    """Turn a draft quote into a draft order (once; 409 shown on the page if it was already ordered)."""
    v = crm_viewer()
    found = quotes_svc.get_quote(db.session, v, quote_id)
    data, errors, raw = load_form(ToOrder())
    if errors:
        return _render_quote(found, raw, errors, 422)
    try:
        row = orders_svc.order_from_quote(db.session, v, quote_id, data)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        if err.status == 404:
            raise
        return _render_quote(quotes_svc.get_quote(db.session, v, quote_id), raw, {"_": error_text(err.detail)},
                             err.status if err.status < 500 else 422)
    flash(_("Order created."), "ok")
    return redirect(url_for("web.order", order_id=row.id))
