"""CRM pages: customers (search, detail with follow-ups, opportunities, contracts and tickets, create, add a
follow-up) and the opportunity board by stage (drag a card, or pick a stage without JavaScript).

Every page calls the crm/ domain functions with the logged-in user as a crm.access.Viewer, exactly as the
v1 API does: another rep's customer is 404, a read-only share may not add follow-ups (403).
"""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import func, or_, select

from api.extensions import db
from api.http import query_args
from api.web.blueprint import bp
from api.web.common.errors import wants_json
from api.web.common.forms import load_form
from api.web.common.session import user
from crm import contracts, follow_ups, opportunities, tickets
from crm import customers as customers_svc
from crm.access import Viewer, can_edit_customer, can_edit_opportunity, get_customer, get_opportunity, viewer_for
from crm.invoices import sales_summary
from crm.models import Customer, Opportunity
from oa.models import User
from store.base import utcnow
from store.errors import Conflict, DomainError, InvalidData

PER_PAGE = 25
BOARD_LIMIT = 60  # cards per column
STAGE_LABELS = {"lead": _l("Lead"), "qualified": _l("Qualified"), "proposal": _l("Proposal"),
                "negotiation": _l("Negotiation"), "won": _l("Won"), "lost": _l("Lost")}
FOLLOW_UP_TYPES = {"call": _l("Call"), "visit": _l("Visit"), "email": _l("Email"), "meeting": _l("Meeting")}


def crm_viewer() -> Viewer:
    """The logged-in user as a CRM viewer (with the team below them; a read also with their open tasks' grants)."""
    return viewer_for(db.session, user(), via_tasks=request.method in ("GET", "HEAD"))


def is_crm_user() -> bool:
    """Whether the CRM links belong in the menu: admins, the sales group, and managers (they see a team)."""
    from flask import g
    me = g.get("user")
    if me is None:
        return False
    if "crm_nav" not in g:
        g.crm_nav = bool(me.has_role("admin") or "sales" in g.actor.groups or db.session.scalar(
            select(User.id).where(User.manager_id == me.id, User.active.is_(True)).limit(1)))
    return g.crm_nav


@bp.app_context_processor
def _crm_globals() -> dict:
    return {"is_crm": is_crm_user() if request and request.blueprint == "web" else False,
            "stage_labels": STAGE_LABELS, "follow_up_types": FOLLOW_UP_TYPES,
            "level_options": [(x, x) for x in customers_svc.LEVELS]}


# ------------------------------------------------------------------ customers
class CustomerSearch(Schema):
    """Query arguments of the customer list."""

    class Meta:
        unknown = RAISE

    q = fields.String(validate=validate.Length(max=200))
    level = fields.String(validate=validate.OneOf(("", *customers_svc.LEVELS)))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


def search_customers(viewer: Viewer, text: str | None, level: str | None) -> Any:
    """Customers in the viewer's scope whose name, phone, industry or region contains `text`."""
    query = customers_svc.list_query(viewer, filters={"level": level or None})
    text = (text or "").strip()
    if text:
        folded = text.casefold()
        conds = [Customer.name_key.contains(folded, autoescape=True),
                 func.lower(Customer.industry).contains(folded, autoescape=True),
                 func.lower(Customer.region).contains(folded, autoescape=True),
                 Customer.phone.contains(text, autoescape=True)]
        digits = customers_svc.phone_key(text)
        if digits and len(digits) >= 3:
            conds.append(Customer.phone_key.contains(digits, autoescape=True))
        query = query.where(or_(*conds))
    return query


@bp.get("/customers")
def customers() -> str:
    """My customers (and my team's and those shared with me), searchable by name, phone, industry, region."""
    args = query_args(CustomerSearch)
    query = search_customers(crm_viewer(), args.get("q"), args.get("level"))
    total = db.session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0
    rows = db.session.scalars(query.limit(PER_PAGE).offset((args["page"] - 1) * PER_PAGE)).all()
    return render_template("crm/customers.html", rows=rows, total=total, args=args, page=args["page"],
                           pages=max(1, -(-total // PER_PAGE)), levels=customers_svc.LEVELS)


class CustomerForm(Schema):
    """The new-customer form."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    industry = fields.String(validate=validate.Length(max=100))
    region = fields.String(validate=validate.Length(max=100))
    level = fields.String(validate=validate.OneOf(customers_svc.LEVELS))
    source = fields.String(validate=validate.Length(max=100))
    phone = fields.String(validate=validate.Length(max=50))


@bp.get("/customers/new")
def new_customer() -> str:
    """The form to add a customer."""
    return render_template("crm/customer_new.html", values={}, errors={}, levels=customers_svc.LEVELS)


@bp.post("/customers/new")
def create_customer() -> Any:
    """Create a customer owned by me; duplicates and bad fields are shown on the form."""
    data, errors, raw = load_form(CustomerForm())
    if not errors:
        try:
            row = customers_svc.create_customer(db.session, crm_viewer(), data)
            db.session.commit()
        except (InvalidData, Conflict) as err:
            db.session.rollback()
            errors = _field_errors(err)
            status = err.status
        else:
            flash(_("Customer created."), "ok")
            return redirect(url_for("web.customer", customer_id=row.id))
    else:
        status = 422
    return render_template("crm/customer_new.html", values=raw, errors=errors, levels=customers_svc.LEVELS), status


def _field_errors(err: DomainError) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in err.errors or []:
        if isinstance(e, dict):
            out.setdefault(str(e.get("field") or "_"), str(e.get("message") or err.detail))
    return out or {"_": str(err.detail)}


def _render_customer(customer: Customer, values: dict | None = None, errors: dict | None = None,
                     status: int = 200) -> tuple[str, int]:
    v = crm_viewer()
    cid = customer.id
    return render_template(
        "crm/customer.html", c=customer,
        follow_ups=db.session.scalars(follow_ups.list_query(v, {"customer_id": cid}).limit(50)).all(),
        opportunities=db.session.scalars(opportunities.list_query(v, {"customer_id": cid}).limit(100)).all(),
        contracts=db.session.scalars(contracts.list_query(v, {"customer_id": cid}).limit(100)).all(),
        tickets=db.session.scalars(tickets.list_query(v, {"customer_id": cid}).limit(50)).all(),
        sales=sales_summary(db.session, v, cid),
        can_edit=can_edit_customer(db.session, v, customer), values=values or {}, errors=errors or {},
        now=utcnow()), status


@bp.get("/customers/<int:customer_id>")
def customer(customer_id: int) -> tuple[str, int]:
    """A customer with its follow-ups, opportunities, contracts and tickets (404 outside my scope)."""
    return _render_customer(get_customer(db.session, crm_viewer(), customer_id))


class FollowUpForm(Schema):
    """The add-a-follow-up form on the customer page."""

    class Meta:
        unknown = RAISE

    type = fields.String(required=True, validate=validate.OneOf(follow_ups.TYPES))
    content = fields.String(required=True, validate=validate.Length(min=1, max=10_000))
    next_follow_up_date = fields.Date()
    satisfaction = fields.Integer(validate=validate.Range(min=1, max=5))


@bp.post("/customers/<int:customer_id>/follow-ups")
def add_follow_up(customer_id: int) -> Any:
    """Record a follow-up on a customer I may edit; field errors re-render the customer page."""
    v = crm_viewer()
    found = get_customer(db.session, v, customer_id, edit=True)
    data, errors, raw = load_form(FollowUpForm())
    if errors:
        return _render_customer(found, raw, errors, 422)
    try:
        follow_ups.add_follow_up(db.session, v, {**data, "customer_id": customer_id})
        db.session.commit()
    except InvalidData as err:
        db.session.rollback()
        return _render_customer(get_customer(db.session, v, customer_id), raw, _field_errors(err), 422)
    flash(_("Follow-up recorded."), "ok")
    return redirect(url_for("web.customer", customer_id=customer_id) + "#follow-ups")


# ------------------------------------------------------------------ opportunity board
@bp.get("/opportunities/board")
def board() -> str:
    """Open and closed opportunities in my scope, one column per stage."""
    v = crm_viewer()
    columns: dict[str, list[Opportunity]] = {}
    for stage in opportunities.STAGES:
        query = opportunities.list_query(v, {"stage": stage}).order_by(None).order_by(Opportunity.id.desc())
        columns[stage] = db.session.scalars(query.limit(BOARD_LIMIT)).all()
    ids = {o.customer_id for rows in columns.values() for o in rows}
    names = dict(db.session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids))).all()) \
        if ids else {}
    editable = {o.id for rows in columns.values() for o in rows
                if o.status == "open" and can_edit_opportunity(db.session, v, o)}
    return render_template("crm/board.html", columns=columns, names=names, editable=editable)


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
