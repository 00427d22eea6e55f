"""Follow-up records on customers (call, visit, email, meeting) with an optional next date and satisfaction."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from api.auth import login_required
from api.extensions import db
from api.http import json_body, query_args
from api.routes._crm_common import ListArgs, done, list_response, viewer
from crm import follow_ups as svc

bp = Blueprint("follow_ups", __name__)
COLUMNS = ("id", "customer_id", "opportunity_id", "user", "type", "content", "next_follow_up_date", "satisfaction",
           "created_at")


class FollowUpIn(Schema):
    class Meta:
        unknown = RAISE

    customer_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    opportunity_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1))
    type = fields.String(required=True, validate=validate.OneOf(svc.TYPES))
    content = fields.String(required=True, validate=validate.Length(min=1, max=10_000))
    next_follow_up_date = fields.Date(allow_none=True)
    satisfaction = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1, max=5))


class FollowUpListArgs(ListArgs):
    customer_id = fields.Integer(validate=validate.Range(min=1))
    user = fields.String(validate=validate.Length(max=100))
    type = fields.String(validate=validate.OneOf(svc.TYPES))


@bp.get("/follow-ups")
@login_required
def list_follow_ups():  # noqa: ANN201
    """Follow-ups on customers the caller sees, newest first."""
    args = query_args(FollowUpListArgs)
    return list_response("follow-ups", svc.list_query(viewer(), args), args, svc.follow_up_dict, COLUMNS)


@bp.post("/follow-ups")
@login_required
def create():  # noqa: ANN201
    """Record a follow-up; a next date schedules a reminder."""
    body = json_body(FollowUpIn)
    return done(svc.follow_up_dict(svc.add_follow_up(db.session, viewer(), body)), 201)
