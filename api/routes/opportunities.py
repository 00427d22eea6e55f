"""Opportunities: the pipeline in the caller's data scope; win (creates the contract) or lose with a reason."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import fields, validate

from api.auth import login_required
from api.extensions import db
from api.http import json_body, query_args
from api.routes._crm_common import ListArgs, done, list_response, viewer
from api.schemas import Strict
from crm import opportunities as svc
from crm.access import get_opportunity
from crm.contracts import contract_dict

bp = Blueprint("opportunities", __name__)
COLUMNS = ("id", "customer_id", "name", "stage", "amount", "probability", "expected_close_date", "source", "owner",
           "status", "close_reason", "closed_at", "created_at")


class OpportunityIn(Strict):
    customer_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    stage = fields.String(validate=validate.OneOf(svc.OPEN_STAGES))
    amount = fields.Decimal(load_default=0, validate=validate.Range(min=0, max=10**12 - 1))
    probability = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=100))
    expected_close_date = fields.Date(allow_none=True)
    source = fields.String(allow_none=True, validate=validate.Length(max=100))


class OpportunityPatch(Strict):
    name = fields.String(validate=validate.Length(min=1, max=200))
    stage = fields.String(validate=validate.OneOf(svc.OPEN_STAGES))
    amount = fields.Decimal(validate=validate.Range(min=0, max=10**12 - 1))
    probability = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=100))
    expected_close_date = fields.Date(allow_none=True)
    source = fields.String(allow_none=True, validate=validate.Length(max=100))


class WinIn(Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    contract_title = fields.String(validate=validate.Length(min=1, max=200))
    amount = fields.Decimal(validate=validate.Range(min=0, max=10**12 - 1))


class LoseIn(Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class OpportunityListArgs(ListArgs):
    customer_id = fields.Integer(validate=validate.Range(min=1))
    stage = fields.String(validate=validate.OneOf(list(svc.STAGES)))
    status = fields.String(validate=validate.OneOf(["open", "won", "lost"]))
    owner = fields.String(validate=validate.Length(max=100))
    close_from = fields.Date()
    close_to = fields.Date()


@bp.get("/opportunities")
@login_required
def list_opportunities():  # noqa: ANN201
    """Opportunities the caller sees."""
    args = query_args(OpportunityListArgs)
    return list_response("opportunities", svc.list_query(viewer(), args), args, svc.opportunity_dict, COLUMNS)


@bp.get("/opportunities/stages")
@login_required
def stages() -> dict:
    """The pipeline stages with their default probabilities."""
    return {"stages": [{"stage": s, "probability": p} for s, p in svc.STAGES.items()]}


@bp.post("/opportunities")
@login_required
def create():  # noqa: ANN201
    """Open an opportunity on a customer the caller may edit."""
    body = json_body(OpportunityIn)
    return done(svc.opportunity_dict(svc.create_opportunity(db.session, viewer(), body)), 201)


@bp.get("/opportunities/<int:opp_id>")
@login_required
def get_one(opp_id: int) -> dict:
    """One opportunity."""
    return svc.opportunity_dict(get_opportunity(db.session, viewer(), opp_id))


@bp.patch("/opportunities/<int:opp_id>")
@login_required
def update(opp_id: int):  # noqa: ANN201
    """Move an open opportunity along the pipeline (audited)."""
    body = json_body(OpportunityPatch)
    return done(svc.opportunity_dict(svc.update_opportunity(db.session, viewer(), opp_id, body)))


@bp.post("/opportunities/<int:opp_id>/win")
@login_required
def win(opp_id: int):  # noqa: ANN201
    """Mark won with a reason; creates (or activates) the contract."""
    body = json_body(WinIn)
    opp, contract = svc.win_opportunity(db.session, viewer(), opp_id, body["reason"], body.get("contract_title"),
                                        body.get("amount"))
    return done(svc.opportunity_dict(opp) | {"contract": contract_dict(contract)})


@bp.post("/opportunities/<int:opp_id>/lose")
@login_required
def lose(opp_id: int):  # noqa: ANN201
    """Mark lost with a reason."""
    body = json_body(LoseIn)
    return done(svc.opportunity_dict(svc.lose_opportunity(db.session, viewer(), opp_id, body["reason"])))
