"""Opportunity pages: the board by stage (drag a card, or pick a stage without JavaScript), create (from the
board or a customer), edit, and the opportunity page.

Views over crm.opportunities with the logged-in viewer, as the v1 API: another rep's opportunity is 404, an
opportunity is opened only on a customer I may edit, and a closed one is no longer edited (409 shown inline).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import Select, func, select

from api.extensions import db
from api.http import query_args
from api.web.blueprint import bp
from api.web.common.errors import wants_json
from api.web.common.forms import load_form
from api.web.crm.pages import STAGE_LABELS, crm_viewer, field_errors
from crm import contracts, opportunities
from crm import customers as customers_svc
from crm.access import Viewer, can_edit_opportunity, get_customer, get_opportunity
from crm.models import Customer, Opportunity
from engine.models import ProcessDefinition
from store.errors import Conflict, DomainError, InvalidData

BOARD_LIMIT = 60  # cards per column
MAX_CUSTOMER_CHOICES = 500  # customers offered in the new-opportunity select
MAX_AMOUNT = 10**12 - 1


@bp.get("/opportunities/board")
def board() -> str:
    """Open and closed opportunities in my scope, one column per stage."""
    v = crm_viewer()
    columns: dict[str, list[Opportunity]] = {}
    totals: dict[str, tuple[int, Decimal]] = {}
    for stage in opportunities.STAGES:
        query = opportunities.list_query(v, {"stage": stage}).order_by(None)
        columns[stage] = db.session.scalars(query.order_by(Opportunity.id.desc()).limit(BOARD_LIMIT)).all()
        totals[stage] = column_total(query)
    ids = {o.customer_id for rows in columns.values() for o in rows}
    names = dict(db.session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids))).all()) \
        if ids else {}
    editable = {o.id for rows in columns.values() for o in rows
                if o.status == "open" and can_edit_opportunity(db.session, v, o)}
    return render_template("crm/board.html", columns=columns, names=names, editable=editable, totals=totals)


def column_total(query: Select) -> tuple[int, Decimal]:
    """(how many opportunities, their summed amount) a board column's query holds, beyond the cards shown."""
    rows = query.subquery()
    count, amount = db.session.execute(select(func.count(), func.coalesce(func.sum(rows.c.amount), 0))
                                       .select_from(rows)).one()
    return int(count), Decimal(amount)


class MoveForm(Schema):
    """Move a card: the new stage, and a reason when it closes the opportunity."""

    class Meta:
        unknown = RAISE

    stage = fields.String(required=True, validate=validate.OneOf(list(opportunities.STAGES)))
    reason = fields.String(validate=validate.Length(min=1, max=2000))


@bp.post("/opportunities/<int:opp_id>/stage")
def move_opportunity(opp_id: int) -> Any:
    """Move an opportunity to another stage (won/lost need a reason); JSON for the board's script."""
    v = crm_viewer()
    get_opportunity(db.session, v, opp_id)  # 404 outside my scope before looking at the form
    data, errors, _raw = load_form(MoveForm())
    if not errors and data["stage"] in ("won", "lost") and not data.get("reason"):
        errors["reason"] = _("Give a reason to close the opportunity.")
    if errors:
        raise InvalidData(_("The stage could not be changed."),
                          errors=[{"field": k, "message": m} for k, m in errors.items()])
    stage = data["stage"]
    if stage == "won":
        opp, _contract = opportunities.win_opportunity(db.session, v, opp_id, data["reason"])
    elif stage == "lost":
        opp = opportunities.lose_opportunity(db.session, v, opp_id, data["reason"])
    else:
        opp = opportunities.update_opportunity(db.session, v, opp_id, {"stage": stage})
    db.session.commit()
    if wants_json():
        return jsonify({"id": opp.id, "stage": opp.stage, "status": opp.status, "probability": opp.probability})
    flash(_("%(name)s moved to %(stage)s.", name=opp.name, stage=STAGE_LABELS[opp.stage]), "ok")
    return redirect(url_for("web.board"))


# ------------------------------------------------------------------ create and edit
class OpportunityForm(Schema):
    """The opportunity form; probability left empty takes the stage's default."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    stage = fields.String(validate=validate.OneOf(opportunities.OPEN_STAGES))
    amount = fields.Decimal(validate=validate.Range(min=0, max=MAX_AMOUNT))
    probability = fields.Integer(validate=validate.Range(min=0, max=100))
    expected_close_date = fields.Date()
    source = fields.String(validate=validate.Length(max=100))


class NewOpportunityForm(OpportunityForm):
    """The new-opportunity form: the customer too."""

    customer_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class NewOpportunityArgs(Schema):
    """`?customer_id=` preselects the customer (from the customer page)."""

    class Meta:
        unknown = RAISE

    customer_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


def customer_choices(viewer: Viewer, current: object = None) -> list[tuple[int, str]]:
    """(id, name) of owned customers in the viewer's scope, by name, for the customer select; the `current`
    (preselected) customer is added when it is in scope but beyond the first MAX_CUSTOMER_CHOICES."""
    query = customers_svc.list_query(viewer).where(Customer.owner.is_not(None)).order_by(None) \
        .order_by(Customer.name).limit(MAX_CUSTOMER_CHOICES)
    pairs = [(c.id, c.name) for c in db.session.scalars(query)]
    wanted = int(current) if str(current or "").isdigit() and int(str(current)) <= 2**31 - 1 else None
    if wanted is not None and all(cid != wanted for cid, _name in pairs):
        extra = db.session.scalars(customers_svc.list_query(viewer).where(Customer.id == wanted)).first()
        if extra is not None and extra.owner is not None:
            pairs.append((extra.id, extra.name))
    return pairs


def _new_form(values: dict, errors: dict, status: int = 200) -> tuple[str, int]:
    return render_template("crm/opportunity_form.html", opp=None, values=values, errors=errors,
                           customers=customer_choices(crm_viewer(), values.get("customer_id"))), status


@bp.get("/opportunities/new")
def new_opportunity() -> tuple[str, int]:
    """The form to open an opportunity (the customer preselected from `?customer_id=`)."""
    args = query_args(NewOpportunityArgs)
    values: dict[str, Any] = {"stage": "lead"}
    if args.get("customer_id"):
        values["customer_id"] = str(get_customer(db.session, crm_viewer(), args["customer_id"], edit=True).id)
    return _new_form(values, {})


@bp.post("/opportunities/new")
def create_opportunity() -> Any:
    """Open an opportunity on a customer I may edit; bad fields and unknown customers are shown on the form."""
    data, errors, raw = load_form(NewOpportunityForm())
    if errors:
        return _new_form(raw, errors, 422)
    try:
        opp = opportunities.create_opportunity(db.session, crm_viewer(), data)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        return _new_form(raw, field_errors(err), err.status if err.status < 500 else 422)
    flash(_("Opportunity created."), "ok")
    return redirect(url_for("web.opportunity", opp_id=opp.id))


def _edit_form(opp: Opportunity, values: dict, errors: dict, status: int = 200) -> tuple[str, int]:
    return render_template("crm/opportunity_form.html", opp=opp, values=values, errors=errors, customers=[]), status


@bp.get("/opportunities/<int:opp_id>/edit")
def edit_opportunity(opp_id: int) -> tuple[str, int]:
    """The edit form of an open opportunity I may change."""
    opp = get_opportunity(db.session, crm_viewer(), opp_id, edit=True)
    if opp.status != "open":
        raise Conflict(_("This opportunity is closed and can no longer be edited."))
    values = {"name": opp.name, "stage": opp.stage, "amount": str(opp.amount), "probability": str(opp.probability),
              "expected_close_date": opp.expected_close_date.isoformat() if opp.expected_close_date else "",
              "source": opp.source or ""}
    return _edit_form(opp, values, {})


@bp.post("/opportunities/<int:opp_id>/edit")
def update_opportunity(opp_id: int) -> Any:
    """Save an open opportunity's name, stage and figures (audited); errors stay on the form."""
    v = crm_viewer()
    opp = get_opportunity(db.session, v, opp_id, edit=True)
    data, errors, raw = load_form(OpportunityForm())
    if errors:
        return _edit_form(opp, raw, errors, 422)
    data.setdefault("expected_close_date", None)
    data.setdefault("source", None)
    if data.get("stage", opp.stage) != opp.stage and data.get("probability") == opp.probability:
        data.pop("probability")  # a new stage with the old figure untouched: the stage's default applies
    try:
        opportunities.update_opportunity(db.session, v, opp_id, data)
        db.session.commit()
    except (InvalidData, Conflict) as err:
        db.session.rollback()
        return _edit_form(get_opportunity(db.session, v, opp_id), raw, field_errors(err), err.status)
    flash(_("Opportunity saved."), "ok")
    return redirect(url_for("web.opportunity", opp_id=opp_id))


@bp.get("/opportunities/<int:opp_id>")
def opportunity(opp_id: int) -> str:
    """An opportunity with its customer, figures, close details and contracts (404 outside my scope)."""
    v = crm_viewer()
    opp = get_opportunity(db.session, v, opp_id)
    return render_template("crm/opportunity.html", o=opp, tab="overview",
                           customer=db.session.get(Customer, opp.customer_id),
                           contracts=db.session.scalars(contracts.list_query(v, {"opportunity_id": opp.id})
                                                        .limit(50)).all(),
                           can_edit=(editable := opp.status == "open" and can_edit_opportunity(db.session, v, opp)),
                           contract_approval=contract_approval_url(opp) if editable else None)


CONTRACT_APPROVAL = "contract_approval"  # the shipped flow whose start form names an opportunity


def contract_approval_url(opp: Opportunity) -> str | None:
    """The contract approval start form pre-filled with the opportunity, its name as the contract title and its
    amount (None when the flow is not deployed). The customer comes with the opportunity."""
    if db.session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.key == CONTRACT_APPROVAL).limit(1)) \
            is None:
        return None
    return url_for("web.start_form", key=CONTRACT_APPROVAL, opportunity_id=opp.id, title=opp.name[:200],
                   amount=f"{opp.amount.normalize():f}")
