"""Contract pages: the list (by status), and the contract page with its receivable plans and payments, where
someone who may change the contract adds a plan; finance (or an administrator) records payments.

Views over crm.contracts with the logged-in viewer, as the v1 API (POST /receivables and
POST /contracts/<id>/payments): plans never exceed the contract amount, a payment never exceeds what is
outstanding; the refusal is shown beside the field.
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
from api.web.crm.pages import PER_PAGE, crm_viewer, customer_names, field_errors, pages_of
from crm import contracts as contracts_svc
from crm.access import can_edit_customer, can_read_customer, records_any_payment
from crm.models import Contract, Customer
from engine.runtime import begin_write
from store.clock import company_date
from store.errors import DomainError

MAX_AMOUNT = 10**12 - 1
AMOUNT = validate.Range(min=0, min_inclusive=False, max=MAX_AMOUNT)


class ContractSearch(Schema):
    """Query arguments of the contract list."""

    class Meta:
        unknown = RAISE

    status = fields.String(validate=validate.OneOf(("", *contracts_svc.STATUSES)))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


@bp.get("/contracts")
def contracts() -> str:
    """Contracts in my scope (finance: all), newest first, filtered by status."""
    args = query_args(ContractSearch)
    query = contracts_svc.list_query(crm_viewer(), {"status": args.get("status") or None}) \
        .order_by(None).order_by(Contract.id.desc())
    total = count_rows(db.session, query)
    rows = db.session.scalars(query.limit(PER_PAGE).offset((args["page"] - 1) * PER_PAGE)).all()
    return render_template("crm/contracts.html", rows=rows, total=total, args=args, page=args["page"],
                           pages=pages_of(total), names=customer_names({k.customer_id for k in rows}),
                           statuses=contracts_svc.STATUSES)


class PlanForm(Schema):
    """Add a receivable plan (as POST /receivables)."""

    class Meta:
        unknown = RAISE

    due_date = fields.Date(required=True)
    amount = fields.Decimal(required=True, validate=AMOUNT)
    note = fields.String(validate=validate.Length(max=500))


class PaymentForm(Schema):
    """Record a payment (as POST /contracts/<id>/payments); no plan: oldest due first."""

    class Meta:
        unknown = RAISE

    amount = fields.Decimal(required=True, validate=AMOUNT)
    paid_on = fields.Date()
    plan_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class ContractStatusForm(Schema):
    """Sign (activate) or close a contract (as PATCH /contracts/<id> with a status)."""

    class Meta:
        unknown = RAISE

    status = fields.String(required=True, validate=validate.OneOf(contracts_svc.STATUSES))


def _status(err: DomainError) -> int:
    """The page's status for a refused step: the domain's 4xx (409 for a conflict), 422 otherwise."""
    return err.status if 400 <= err.status < 500 else 422


def render_contract(contract_id: int, *, plan_values: dict | None = None, plan_errors: dict | None = None,
                    pay_values: dict | None = None, pay_errors: dict | None = None,
                    status_errors: dict | None = None, status: int = 200) -> tuple[str, int]:
    """The contract page (404 outside my scope) with the plan and payment forms' values and errors."""
    v = crm_viewer()
    k = contracts_svc.get_contract(db.session, v, contract_id)
    customer = db.session.get(Customer, k.customer_id)
    today = company_date()  # as GET /receivables: overdue by the company's calendar day
    plans = [contracts_svc.plan_dict(p, today) for p in contracts_svc.plans_of(db.session, k)]
    may_edit = v.owns_scope(k.owner) or (customer is not None and can_edit_customer(db.session, v, customer))
    page = render_template(
        "crm/contract.html", k=k, customer=customer, tab="overview", plans=plans,
        customer_link=customer is not None and can_read_customer(db.session, v, customer),
        plan_options=[(str(p["id"]), f'{p["due_date"]} · {p["outstanding"]:,.2f}') for p in plans
                      if p["outstanding"] > 0],
        payments=contracts_svc.payments_of(db.session, k),
        overdue=round(sum(p["outstanding"] for p in plans if p["overdue"]), 2) if k.status == "active" else 0,
        may_plan=may_edit, may_pay=k.status == "active" and records_any_payment(v),  # finance's (crm.contracts)
        plan_values=plan_values or {}, plan_errors=plan_errors or {}, pay_values=pay_values or {},
        pay_errors=pay_errors or {}, status_errors=status_errors or {},
        status_options=[(s, choices.choice("contract_status", s)) for s in contracts_svc.STATUSES if s != k.status])
    return page, status


@bp.get("/contracts/<int:contract_id>")
def contract(contract_id: int) -> tuple[str, int]:
    """A contract with its receivable plans and payments."""
    return render_contract(contract_id)


@bp.post("/contracts/<int:contract_id>/plans")
def add_contract_plan(contract_id: int) -> Any:
    """Plan an instalment of a contract I may change; the sum of plans never exceeds the contract amount."""
    v = crm_viewer()
    contracts_svc.get_contract(db.session, v, contract_id, edit=True)
    data, errors, raw = load_form(PlanForm())
    code = 422
    if not errors:
        try:
            begin_write(db.session)
            contracts_svc.add_plan(db.session, v, {**data, "contract_id": contract_id})
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            errors, code = field_errors(err), _status(err)
        else:
            flash(_("Receivable plan added."), "ok")
            return redirect(url_for("web.contract", contract_id=contract_id) + "#plans")
    return render_contract(contract_id, plan_values=raw, plan_errors=errors, status=code)


@bp.post("/contracts/<int:contract_id>/payments")
def record_contract_payment(contract_id: int) -> Any:
    """Record money received on an active contract (allocated to the named plan or the oldest due first)."""
    v = crm_viewer()
    contracts_svc.get_contract(db.session, v, contract_id, edit=not records_any_payment(v))
    data, errors, raw = load_form(PaymentForm())
    code = 422
    if not errors:
        try:
            begin_write(db.session)
            contracts_svc.record_payment(db.session, v, contract_id, data)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            errors, code = field_errors(err), _status(err)
        else:
            flash(_("Payment recorded."), "ok")
            return redirect(url_for("web.contract", contract_id=contract_id) + "#payments")
    return render_contract(contract_id, pay_values=raw, pay_errors=errors, status=code)


@bp.post("/contracts/<int:contract_id>/status")
def change_contract_status(contract_id: int) -> Any:
    """Set a contract I may change to draft, active (signed) or closed (audited). The service decides who may:
    a receivable contract's status is finance's (crm.contracts.update_contract), anyone else's 403."""
    v = crm_viewer()
    contracts_svc.get_contract(db.session, v, contract_id)  # 404 when I cannot read it
    data, errors, _raw = load_form(ContractStatusForm())
    code = 422
    if not errors:
        try:
            contracts_svc.update_contract(db.session, v, contract_id, data)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            errors, code = field_errors(err), _status(err)
        else:
            flash(_("Contract updated."), "ok")
            return redirect(url_for("web.contract", contract_id=contract_id))
    return render_contract(contract_id, status_errors=errors, status=code)
