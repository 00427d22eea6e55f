"""Service tickets and complaints: SLA from priority, hand-off between teams, outcome and satisfaction."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import fields, validate

from api.auth import login_required
from api.extensions import db
from api.http import json_body, query_args
from api.routes._crm_common import ListArgs, done, list_response, viewer
from api.schemas import Strict
from crm import tickets as svc

bp = Blueprint("tickets", __name__)
COLUMNS = ("id", "customer_id", "kind", "title", "priority", "status", "team", "assignee", "sla_due_at",
           "sla_breached", "outcome", "satisfaction", "created_by", "created_at", "closed_at")


class TicketIn(Strict):
    customer_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    kind = fields.String(validate=validate.OneOf(["service", "complaint"]))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(allow_none=True, validate=validate.Length(max=10_000))
    priority = fields.String(validate=validate.OneOf(svc.PRIORITIES))
    team = fields.String(validate=validate.OneOf(svc.TEAMS))
    assignee = fields.String(allow_none=True, validate=validate.Length(min=1, max=100))


class TicketPatch(Strict):
    title = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(allow_none=True, validate=validate.Length(max=10_000))
    priority = fields.String(validate=validate.OneOf(svc.PRIORITIES))
    status = fields.String(validate=validate.OneOf(svc.STATUSES))
    assignee = fields.String(validate=validate.Length(min=1, max=100))


class HandoffIn(Strict):
    team = fields.String(load_default="service", validate=validate.OneOf(svc.TEAMS))
    assignee = fields.String(allow_none=True, validate=validate.Length(min=1, max=100))
    note = fields.String(allow_none=True, validate=validate.Length(max=4000))


class CloseIn(Strict):
    outcome = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    satisfaction = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=5))


class TicketListArgs(ListArgs):
    customer_id = fields.Integer(validate=validate.Range(min=1))
    status = fields.String(validate=validate.OneOf(svc.STATUSES))
    priority = fields.String(validate=validate.OneOf(svc.PRIORITIES))
    team = fields.String(validate=validate.OneOf(svc.TEAMS))
    assignee = fields.String(validate=validate.Length(max=100))


@bp.get("/tickets")
@login_required
def list_tickets():  # noqa: ANN201
    """Tickets the caller sees, newest first."""
    args = query_args(TicketListArgs)
    return list_response("tickets", svc.list_query(viewer(), args), args, svc.ticket_dict, COLUMNS)


@bp.post("/tickets")
@login_required
def create():  # noqa: ANN201
    """Open a ticket; its SLA due time follows from the priority."""
    body = json_body(TicketIn)
    return done(svc.ticket_dict(svc.create_ticket(db.session, viewer(), body)), 201)


@bp.get("/tickets/<int:ticket_id>")
@login_required
def get_one(ticket_id: int) -> dict:
    """One ticket with its history and the customer's history."""
    v = viewer()
    ticket = svc.get_ticket(db.session, v, ticket_id)
    return svc.ticket_dict(ticket) | svc.history(db.session, v, ticket)


@bp.patch("/tickets/<int:ticket_id>")
@login_required
def update(ticket_id: int):  # noqa: ANN201
    """Change status, priority (re-computes the SLA) or assignee."""
    body = json_body(TicketPatch)
    return done(svc.ticket_dict(svc.update_ticket(db.session, viewer(), ticket_id, body)))


@bp.post("/tickets/<int:ticket_id>/handoff")
@login_required
def handoff(ticket_id: int):  # noqa: ANN201
    """Hand a ticket to another team (sales -> service) with its history."""
    body = json_body(HandoffIn)
    ticket = svc.hand_off(db.session, viewer(), ticket_id, body["team"], body.get("assignee"), body.get("note"))
    return done(svc.ticket_dict(ticket))


@bp.post("/tickets/<int:ticket_id>/close")
@login_required
def close(ticket_id: int):  # noqa: ANN201
    """Close with an outcome and, optionally, the customer's satisfaction (1-5)."""
    body = json_body(CloseIn)
    return done(svc.ticket_dict(svc.close_ticket(db.session, viewer(), ticket_id, body["outcome"],
                                                 body.get("satisfaction"))))
