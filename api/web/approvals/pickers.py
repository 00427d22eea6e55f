"""Small JSON look-ups for the web forms' pickers (login required, like every web page; results capped):
people by name, username or department (`/people`), CRM records the user may access (`/pick/<type>`), and
the working days of a leave by the company calendar (`/leave-days`). The forms work without them: the
server checks every submitted value again.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, jsonify
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import cast, or_, select
from sqlalchemy.types import String

from api.errors import problem
from api.extensions import db
from api.http import query_args
from api.web.blueprint import bp
from api.web.common.error_text import error_text
from api.web.common.errors import json_view
from api.web.common.session import user
from api.web.labels import label
from crm.access import Viewer, customer_visible_clause, opportunity_visible_clause, viewer_for
from crm.contracts import contract_visible_clause
from crm.models import Contract, Customer, Opportunity, SalesOrder
from crm.orders import order_visible_clause
from oa.attendance import rule_for
from oa.models import Department, User
from oa.org import is_service_account
from oa.workdays import leave_days, total
from store.errors import InvalidData

MAX_RESULTS = 20


class PickerQuery(Schema):
    """`q`: the text to look for; `id`: one record by id (to show the name of a value already chosen)."""

    class Meta:
        unknown = RAISE

    q = fields.String(load_default="", validate=validate.Length(max=100))
    id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@bp.get("/people")
@json_view
def people() -> Response:
    """Active employees (no service accounts) whose name, username or department contains `q` (at most 20):
    username, name, department."""
    args = query_args(PickerQuery)
    text = args["q"].strip()
    query = (select(User.username, User.display_name, Department.name)
             .outerjoin(Department, User.department_id == Department.id).where(User.active.is_(True)))
    if args.get("id"):
        query = query.where(User.id == args["id"])
    if text:
        like = _like(text.lower())
        query = query.where(or_(User.username.ilike(like, escape="\\"), User.display_name.ilike(like, escape="\\"),
                                Department.name.ilike(like, escape="\\")))
    # service accounts (integrations) take no work: read a few more and drop them (there are only a handful)
    rows = db.session.execute(query.add_columns(User.roles).order_by(User.username).limit(MAX_RESULTS * 2)).all()
    people = [{"username": u, "name": n or u, "department": d or ""} for u, n, d, roles in rows
              if not is_service_account(roles)]
    return jsonify(people[:MAX_RESULTS])


def _records(kind: str, viewer: Viewer, text: str, record_id: int | None) -> list[dict[str, Any]]:
    like = _like(text.lower())
    if kind == "crm.customer":
        q = select(Customer.id, Customer.name, Customer.owner).where(customer_visible_clause(viewer))
        q = q.where(Customer.name.ilike(like, escape="\\")) if text else q
        return [{"id": i, "name": n, "detail": o or ""} for i, n, o in
                db.session.execute(_by_id(q, Customer.id, record_id).order_by(Customer.name).limit(MAX_RESULTS))]
    if kind == "crm.opportunity":
        q = (select(Opportunity.id, Opportunity.name, Customer.name, Opportunity.status, Opportunity.stage)
             .join(Customer, Customer.id == Opportunity.customer_id).where(opportunity_visible_clause(viewer)))
        q = q.where(or_(Opportunity.name.ilike(like, escape="\\"),
                        Customer.name.ilike(like, escape="\\"))) if text else q
        # an open deal by its stage (提案), a closed one by its outcome (赢单), in the reader's language
        return [{"id": i, "name": n, "detail": f"{c} · {label(stage if s == 'open' else s)}"} for i, n, c, s, stage in
                db.session.execute(_by_id(q, Opportunity.id, record_id).order_by(Opportunity.name).limit(MAX_RESULTS))]
    if kind == "crm.contract":
        q = (select(Contract.id, Contract.title, Customer.name, Contract.status)
             .join(Customer, Customer.id == Contract.customer_id).where(contract_visible_clause(viewer)))
        q = q.where(or_(Contract.title.ilike(like, escape="\\"), Customer.name.ilike(like, escape="\\"))) if text else q
        return [{"id": i, "name": n, "detail": f"{c} · {label(s)}"} for i, n, c, s in
                db.session.execute(_by_id(q, Contract.id, record_id).order_by(Contract.title).limit(MAX_RESULTS))]
    if kind == "crm.order":
        q = (select(SalesOrder.id, SalesOrder.number, Customer.name, SalesOrder.status)
             .join(Customer, Customer.id == SalesOrder.customer_id).where(order_visible_clause(viewer)))
        q = q.where(or_(SalesOrder.number.ilike(like, escape="\\"), Customer.name.ilike(like, escape="\\"),
                        cast(SalesOrder.id, String) == text)) if text else q
        return [{"id": i, "name": n, "detail": f"{c} · {label(s)}"} for i, n, c, s in
                db.session.execute(_by_id(q, SalesOrder.id, record_id).order_by(SalesOrder.id.desc())
                                   .limit(MAX_RESULTS))]
    return []


def _by_id(query: Any, column: Any, record_id: int | None) -> Any:
    return query.where(column == record_id) if record_id else query


@bp.get("/pick/<kind>")
@json_view
def pick_records(kind: str) -> Response | tuple[Response, int]:
    """Records of type `kind` (crm.customer, crm.opportunity, crm.contract, crm.order) the user may access
    (their own data scope, no task grants), matching `q` (at most 20): id, name and a short detail."""
    if kind not in ("crm.customer", "crm.opportunity", "crm.contract", "crm.order"):
        return problem(404, "Not found", "unknown record type", [{"field": "kind", "message": "unknown record type"}])
    args = query_args(PickerQuery)
    return jsonify(_records(kind, viewer_for(db.session, user()), args["q"].strip(), args.get("id")))


class LeaveDaysQuery(Schema):
    """The dates and halves of a leave as the leave form names them."""

    class Meta:
        unknown = RAISE

    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    start_half = fields.String(load_default="am", validate=validate.OneOf(["am", "pm"]))
    end_half = fields.String(load_default="pm", validate=validate.OneOf(["am", "pm"]))


@bp.get("/leave-days")
@json_view
def leave_days_count() -> Response | tuple[Response, int]:
    """The working days of a leave for the logged-in user (their shift's week, public holidays and make-up
    days) — the same count the leave request's start check computes."""
    args = query_args(LeaveDaysQuery)
    start: date = args["start_date"]
    end: date = args["end_date"]
    try:
        days = total(leave_days(db.session, rule_for(db.session, user()).work_days or (), start, end,
                                args["start_half"], args["end_half"]))
    except InvalidData as err:
        errors = [{**e, "message": error_text(e.get("message"))} for e in err.errors or [] if isinstance(e, dict)]
        return problem(422, err.title, error_text(err.detail), errors)
    return jsonify({"days": int(days) if days.is_integer() else days})
