"""Contracts and the payments received against them."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import fields, validate

from api.auth import login_required
from api.extensions import db
from api.http import json_body, query_args
from api.routes._crm_common import ListArgs, done, list_response, viewer
from api.schemas import Strict
from crm import contracts as svc
from engine.runtime import begin_write

bp = Blueprint("contracts", __name__)
COLUMNS = ("id", "customer_id", "opportunity_id", "title", "amount", "paid_amount", "outstanding", "status", "owner",
           "signed_date", "created_at")
MAX_AMOUNT = 10**12 - 1


class ContractIn(Strict):
    customer_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    opportunity_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    amount = fields.Decimal(required=True, validate=validate.Range(min=0, min_inclusive=False, max=MAX_AMOUNT))
    status = fields.String(validate=validate.OneOf(svc.STATUSES))
    signed_date = fields.Date(allow_none=True)


class ContractPatch(Strict):
    title = fields.String(validate=validate.Length(min=1, max=200))
    amount = fields.Decimal(validate=validate.Range(min=0, min_inclusive=False, max=MAX_AMOUNT))
    status = fields.String(validate=validate.OneOf(svc.STATUSES))
    signed_date = fields.Date(allow_none=True)


class PaymentIn(Strict):
    amount = fields.Decimal(required=True, validate=validate.Range(min=0, min_inclusive=False, max=MAX_AMOUNT))
    paid_on = fields.Date()
    plan_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1))


class ContractListArgs(ListArgs):
    customer_id = fields.Integer(validate=validate.Range(min=1))
    opportunity_id = fields.Integer(validate=validate.Range(min=1))
    status = fields.String(validate=validate.OneOf(svc.STATUSES))
    owner = fields.String(validate=validate.Length(max=100))


@bp.get("/contracts")
@login_required
def list_contracts():  # noqa: ANN201
    """Contracts the caller sees."""
    args = query_args(ContractListArgs)
    return list_response("contracts", svc.list_query(viewer(), args), args, svc.contract_dict, COLUMNS)


@bp.post("/contracts")
@login_required
def create():  # noqa: ANN201
    """Create a contract for a customer the caller may edit."""
    body = json_body(ContractIn)
    return done(svc.contract_dict(svc.create_contract(db.session, viewer(), body)), 201)


@bp.get("/contracts/<int:contract_id>")
@login_required
def get_one(contract_id: int) -> dict:
    """One contract with its receivable plans, payments and what is overdue (as `?overdue=true` lists it)."""
    contract = svc.get_contract(db.session, viewer(), contract_id)
    plans = [svc.plan_dict(p) for p in svc.plans_of(db.session, contract)]
    overdue = sum(p["outstanding"] for p in plans if p["overdue"]) if contract.status == "active" else 0
    return svc.contract_dict(contract) | {"plans": plans, "overdue_amount": round(overdue, 2),
                                          "payments": [svc.payment_dict(p) for p in svc.payments_of(db.session,
                                                                                                 contract)]}


@bp.patch("/contracts/<int:contract_id>")
@login_required
def update(contract_id: int):  # noqa: ANN201
    """Change a contract (audited)."""
    body = json_body(ContractPatch)
    return done(svc.contract_dict(svc.update_contract(db.session, viewer(), contract_id, body)))


@bp.post("/contracts/<int:contract_id>/payments")
@login_required
def pay(contract_id: int):  # noqa: ANN201
    """Record a payment, allocated to the plans oldest due first unless `plan_id` names one (422 naming
    `amount` if it exceeds what is outstanding); earns loyalty points."""
    body = json_body(PaymentIn)
    who = viewer()
    begin_write(db.session)  # SQLite: take the write lock up front, so concurrent payments queue, not fail
    return done(svc.payment_dict(svc.record_payment(db.session, who, contract_id, body)), 201)
