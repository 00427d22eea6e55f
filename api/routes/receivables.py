"""Receivable plans (回款计划): instalments due on contracts, with what is paid, outstanding and overdue."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from api.auth import login_required
from api.extensions import db
from api.http import json_body, query_args
from api.routes._crm_common import ListArgs, done, list_response, viewer
from crm import contracts as svc
from engine.runtime import begin_write
from store.clock import company_date

bp = Blueprint("receivables", __name__)
COLUMNS = ("id", "contract_id", "due_date", "amount", "paid_amount", "outstanding", "overdue", "note")


class PlanIn(Schema):
    class Meta:
        unknown = RAISE

    contract_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    due_date = fields.Date(required=True)
    amount = fields.Decimal(required=True, validate=validate.Range(min=0, min_inclusive=False, max=10**12 - 1))
    note = fields.String(allow_none=True, validate=validate.Length(max=500))


class PlanListArgs(ListArgs):
    contract_id = fields.Integer(validate=validate.Range(min=1))
    overdue = fields.Boolean()


@bp.get("/receivables")
@login_required
def list_plans():  # noqa: ANN201
    """Receivable plans of contracts the caller sees (`?overdue=true` for unpaid ones past due)."""
    args = query_args(PlanListArgs)
    today = company_date()
    return list_response("receivables", svc.plans_query(viewer(), args, today), args,
                         lambda p: svc.plan_dict(p, today), COLUMNS)


@bp.post("/receivables")
@login_required
def create():  # noqa: ANN201
    """Plan an instalment; all plans of a contract may not exceed its amount."""
    body = json_body(PlanIn)
    who = viewer()
    begin_write(db.session)
    return done(svc.plan_dict(svc.add_plan(db.session, who, body)), 201)
