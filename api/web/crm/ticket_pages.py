"""Ticket pages: the list (by status), open a ticket on a customer, and the ticket page with its history, where
its status moves open → in progress → resolved and it is closed with an outcome.

Views over crm.tickets with the logged-in viewer, as the v1 API: a ticket is seen by its customer's readers,
its assignee and creator (and their managers); closing needs an outcome; a closed ticket no longer changes.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, fields, validate

from api.extensions import db
from api.http import query_args
from api.web.blueprint import bp
from api.web.common.forms import load_form
from api.web.common.queries import count as count_rows
from api.web.crm import choices
from api.web.crm.opportunity_pages import customer_choices
from api.web.crm.pages import PER_PAGE, crm_viewer, customer_names, field_errors, pages_of
from crm import tickets as tickets_svc
from crm.access import get_customer
from crm.models import Customer
from store.base import utcnow
from store.errors import DomainError

OPEN_STATUSES = ("open", "in_progress", "resolved")  # PATCH moves between these; closing is its own step


class TicketSearch(Schema):
    """Query arguments of the ticket list."""

    class Meta:
        unknown = RAISE

    status = fields.String(validate=validate.OneOf(("", *tickets_svc.STATUSES)))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


@bp.get("/tickets")
def tickets() -> str:
    """Tickets I see, newest first, filtered by status; overdue ones are marked."""
    args = query_args(TicketSearch)
    query = tickets_svc.list_query(crm_viewer(), {"status": args.get("status") or None})
    total = count_rows(db.session, query)
    rows = db.session.scalars(query.limit(PER_PAGE).offset((args["page"] - 1) * PER_PAGE)).all()
    return render_template("crm/tickets.html", rows=rows, total=total, args=args, page=args["page"],
                           pages=pages_of(total), names=customer_names({t.customer_id for t in rows}),
                           statuses=tickets_svc.STATUSES, now=utcnow())


class TicketForm(Schema):
    """Open a ticket (as POST /tickets); the SLA due time follows from the priority."""

    class Meta:
        unknown = RAISE

    customer_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    kind = fields.String(validate=validate.OneOf(("service", "complaint")))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=10_000))
    priority = fields.String(validate=validate.OneOf(tickets_svc.PRIORITIES))


class NewTicketArgs(Schema):
    """`?customer_id=` preselects the customer."""

    class Meta:
        unknown = RAISE

    customer_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


def _new_form(values: dict, errors: dict, status: int = 200) -> tuple[str, int]:
    return render_template("crm/ticket_new.html", values=values, errors=errors,
                           customers=customer_choices(crm_viewer(), values.get("customer_id"))), status


@bp.get("/tickets/new")
def new_ticket() -> tuple[str, int]:
    """The form to open a ticket."""
    args = query_args(NewTicketArgs)
    values = {"priority": "medium", "kind": "service"}
    if args.get("customer_id"):
        values["customer_id"] = str(get_customer(db.session, crm_viewer(), args["customer_id"]).id)
    return _new_form(values, {})


@bp.post("/tickets/new")
def create_ticket() -> Any:
    """Open a ticket assigned to me; bad fields and customers outside my scope are shown on the form."""
    data, errors, raw = load_form(TicketForm())
    if errors:
        return _new_form(raw, errors, 422)
    try:
        ticket = tickets_svc.create_ticket(db.session, crm_viewer(), data)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        return _new_form(raw, field_errors(err), err.status if err.status < 500 else 422)
    flash(_("Ticket opened."), "ok")
    return redirect(url_for("web.ticket", ticket_id=ticket.id))


def render_ticket(ticket_id: int, values: dict | None = None, errors: dict | None = None,
                  status: int = 200) -> tuple[str, int]:
    """The ticket page with its own history (404 if I may not see it)."""
    v = crm_viewer()
    t = tickets_svc.get_ticket(db.session, v, ticket_id)
    history = tickets_svc.history(db.session, v, t)["history"]
    return render_template("crm/ticket.html", t=t, customer=db.session.get(Customer, t.customer_id),
                           history=history[-200:],
                           next_options=[(s, choices.choice("ticket_status", s)) for s in OPEN_STATUSES
                                         if s != t.status],
                           values=values or {}, errors=errors or {}, now=utcnow()), status


@bp.get("/tickets/<int:ticket_id>")
def ticket(ticket_id: int) -> tuple[str, int]:
    """A ticket with its status, SLA, outcome and history."""
    return render_ticket(ticket_id)


class StatusForm(Schema):
    """Move an unclosed ticket to another open status."""

    class Meta:
        unknown = RAISE

    status = fields.String(required=True, validate=validate.OneOf(OPEN_STATUSES))


@bp.post("/tickets/<int:ticket_id>/status")
def change_ticket_status(ticket_id: int) -> Any:
    """Set a ticket's status (open, in progress, resolved); a closed ticket answers 409 on the page."""
    v = crm_viewer()
    tickets_svc.get_ticket(db.session, v, ticket_id)
    data, errors, raw = load_form(StatusForm())
    if not errors:
        try:
            tickets_svc.update_ticket(db.session, v, ticket_id, data)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            return render_ticket(ticket_id, raw, field_errors(err), err.status if err.status < 500 else 422)
        flash(_("Ticket updated."), "ok")
        return redirect(url_for("web.ticket", ticket_id=ticket_id))
    return render_ticket(ticket_id, raw, errors, 422)


class CloseForm(Schema):
    """Close a ticket with its outcome (as POST /tickets/<id>/close)."""

    class Meta:
        unknown = RAISE

    outcome = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    satisfaction = fields.Integer(validate=validate.Range(min=1, max=5))


@bp.post("/tickets/<int:ticket_id>/close")
def close_ticket(ticket_id: int) -> Any:
    """Close a ticket I may close, with its outcome and an optional satisfaction score."""
    v = crm_viewer()
    tickets_svc.get_ticket(db.session, v, ticket_id)
    data, errors, raw = load_form(CloseForm())
    if not errors:
        try:
            tickets_svc.close_ticket(db.session, v, ticket_id, data["outcome"], data.get("satisfaction"))
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            return render_ticket(ticket_id, raw, field_errors(err), err.status if err.status < 500 else 422)
        flash(_("Ticket closed."), "ok")
        return redirect(url_for("web.ticket", ticket_id=ticket_id))
    return render_ticket(ticket_id, raw, errors, 422)
