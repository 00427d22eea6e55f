"""The 公海 public pool (unowned customers) with claim, releasing a customer back to it, transferring a customer
to another rep (from the customer page), and the follow-up reminder list (今日需联系: next contact dates due
today or overdue).

Views over crm.pool / crm.ownership with the logged-in viewer, as the v1 API: only the owner, their manager or an
administrator releases or transfers; a claim over the per-rep cap or of an owned customer is refused (409) with
the reason shown on the page.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import func, select

from api.extensions import db
from api.http import query_args
from api.web.blueprint import bp
from api.web.common.error_text import error_text
from api.web.common.forms import load_form
from api.web.common.queries import count as count_rows
from api.web.crm.customer_pages import render_customer
from api.web.crm.pages import PER_PAGE, crm_viewer, field_errors, pages_of
from api.web.people import person
from crm import customers as customers_svc
from crm import ownership
from crm.access import get_customer
from crm.models import Customer, FollowUp
from crm.pool import claim_customer
from crm.settings import get_setting
from engine.runtime import begin_write
from store.clock import company_date
from store.errors import DomainError

MAX_REMINDERS = 200


class PoolSearch(Schema):
    """Query arguments of the pool list."""

    class Meta:
        unknown = RAISE

    q = fields.String(validate=validate.Length(max=200))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


def _render_pool(args: dict, error: str | None = None, status: int = 200) -> tuple[str, int]:
    v = crm_viewer()
    query = customers_svc.list_query(v, pool=True, filters={"q": args.get("q") or None})
    total = count_rows(db.session, query)
    rows = db.session.scalars(query.limit(PER_PAGE).offset((args["page"] - 1) * PER_PAGE)).all()
    return render_template("crm/pool.html", rows=rows, total=total, args=args, page=args["page"],
                           pages=pages_of(total), error=error, owned=customers_svc.count_owned(db.session, v.username),
                           cap=get_setting(db.session, "claim_cap")), status


@bp.get("/pool")
def pool() -> tuple[str, int]:
    """Customers nobody owns (released by hand or after a long silence), which any rep may claim."""
    return _render_pool(query_args(PoolSearch))


@bp.post("/pool/<int:customer_id>/claim")
def claim_from_pool(customer_id: int) -> Any:
    """Claim a pool customer; taken already or over my cap is shown on the pool page (409)."""
    v = crm_viewer()
    try:
        claim_customer(db.session, v, customer_id)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        if err.status == 404:
            raise
        return _render_pool({"page": 1}, error_text(err.detail), err.status)
    flash(_("Customer claimed: it is yours now."), "ok")
    return redirect(url_for("web.customer", customer_id=customer_id))


class ReleaseForm(Schema):
    """Release a customer to the pool: why (required, kept in the audit trail)."""

    class Meta:
        unknown = RAISE

    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


@bp.post("/customers/<int:customer_id>/release")
def release_to_pool(customer_id: int) -> Any:
    """Return a customer I own (or my team owns) to the pool, with the reason the form asks for."""
    v = crm_viewer()
    customer = get_customer(db.session, v, customer_id)
    data, errors, _raw = load_form(ReleaseForm())
    if errors:
        return render_customer(customer, transfer_errors=errors, status=422)
    try:
        begin_write(db.session)
        ownership.release_customer(db.session, v, customer_id, data["reason"])
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        if err.status == 404:
            raise
        return render_customer(get_customer(db.session, v, customer.id), transfer_errors={"_": error_text(err.detail)},
                               status=err.status if err.status < 500 else 422)
    flash(_("Customer released to the public pool."), "ok")
    return redirect(url_for("web.pool"))


class TransferForm(Schema):
    """Transfer a customer: the rep who takes it over."""

    class Meta:
        unknown = RAISE

    to = fields.String(required=True, validate=validate.Length(min=1, max=100))


@bp.post("/customers/<int:customer_id>/transfer")
def transfer_customer(customer_id: int) -> Any:
    """Give a customer (with its open opportunities and pending follow-ups) to another rep."""
    v = crm_viewer()
    customer = get_customer(db.session, v, customer_id)
    data, errors, _raw = load_form(TransferForm())
    if not errors:
        try:
            begin_write(db.session)
            moved = ownership.transfer_customer(db.session, v, customer_id, data["to"])
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            if err.status == 404:
                raise
            errors = field_errors(err)
            status = err.status if err.status < 500 else 422
        else:
            flash(_("Customer transferred to %(user)s.", user=person(moved["owner"])), "ok")
            return redirect(url_for("web.customers"))
    else:
        status = 422
    return render_customer(get_customer(db.session, v, customer.id), transfer_errors=errors, status=status)


@bp.get("/follow-ups/due")
def due_follow_ups() -> str:
    """今日需联系: my customers whose latest follow-up set a next contact date of today or earlier."""
    v = crm_viewer()
    today = company_date()
    latest = select(func.max(FollowUp.id)).group_by(FollowUp.customer_id)
    rows = db.session.execute(
        select(FollowUp, Customer).join(Customer, Customer.id == FollowUp.customer_id)
        .where(FollowUp.id.in_(latest), FollowUp.next_follow_up_date <= today, Customer.owner == v.username,
               Customer.merged_into_id.is_(None))
        .order_by(FollowUp.next_follow_up_date, Customer.name).limit(MAX_REMINDERS)).all()
    return render_template("crm/due.html", rows=rows, today=today)
