"""Sales targets per period for the company, teams and reps; splits downwards must add up."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from api.auth import login_required
from api.extensions import db
from api.http import json_body, query_args
from api.routes._crm_common import ListArgs, done, list_response, viewer
from crm import targets as svc
from crm.common import PERIOD_RE

bp = Blueprint("targets", __name__)
COLUMNS = ("id", "period", "scope", "owner", "amount")


class TargetIn(Schema):
    class Meta:
        unknown = RAISE

    period = fields.String(required=True, validate=validate.Regexp(PERIOD_RE, error="must be YYYY, YYYY-MM or YYYY-Qn"))
    scope = fields.String(required=True, validate=validate.OneOf(svc.SCOPES))
    owner = fields.String(allow_none=True, validate=validate.Length(min=1, max=100))
    amount = fields.Decimal(required=True, validate=validate.Range(min=0, max=10**12 - 1))


class TargetListArgs(ListArgs):
    period = fields.String(validate=validate.Regexp(PERIOD_RE, error="must be YYYY, YYYY-MM or YYYY-Qn"))
    scope = fields.String(validate=validate.OneOf(svc.SCOPES))
    owner = fields.String(validate=validate.Length(max=100))


@bp.get("/targets")
@login_required
def list_targets():  # noqa: ANN201
    """Targets the caller sees."""
    args = query_args(TargetListArgs)
    who = viewer()
    return list_response("targets", svc.list_query(who, args, svc.team_of(db.session, who)), args,
                         svc.target_dict, COLUMNS)


@bp.put("/targets")
@login_required
def put_target():  # noqa: ANN201
    """Create or change the target of (period, scope, owner); a manager only for their own team (else 403)."""
    body = json_body(TargetIn)
    target = svc.set_target(db.session, viewer(), body["period"], body["scope"], body.get("owner"), body["amount"])
    return done(svc.target_dict(target))
