"""Customers: CRUD in the caller's data scope, duplicate check, public pool and claims, shares, loyalty points,
satisfaction, CSV/XLSX import and export; plus the CRM audit trail and CRM settings."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from marshmallow import fields, validate

from api.auth import login_required, require_roles
from api.extensions import db
from api.http import json_body, query_args
from api.routes._crm_common import ListArgs, done, list_response, viewer
from api.schemas import Strict
from crm import customers as svc
from crm.access import get_customer
from crm.importer import any_rows, import_contacts, import_customers
from crm.pool import claim_customer
from crm.rfm import change_settings
from crm.settings import all_settings
from crm.tabular import read_table
from crm.trail import ENTITIES, audit_trail
from store.errors import InvalidData

bp = Blueprint("customers", __name__)
MERGE_GUARDED = frozenset({"customers", "orders", "ownership"})  # blueprints with /customers/<customer_id>/… routes


@bp.before_app_request
def merged_customer():  # noqa: ANN201
    """Every /customers/<id>/… route on a customer merged into another: GET answers 308 to the same route of the
    one kept, a write 409 (nothing lands on a record that no longer exists on its own). Only for callers who may
    read the merged customer; everyone else gets what the route gives them (401, 404)."""
    cid = (request.view_args or {}).get("customer_id")
    if request.blueprint not in MERGE_GUARDED or not isinstance(cid, int) \
            or not request.path.startswith(f"/api/v1/customers/{cid}"):
        return None
    from crm.models import Customer
    customer = db.session.get(Customer, cid)
    if customer is None or customer.merged_into_id is None:
        return None
    from api.errors import ApiError
    from crm.access import can_read_customer, reads_all_sales
    from engine.errors import EngineError
    try:
        who = viewer()
    except EngineError:
        return None  # the route's own authentication answers
    if not (reads_all_sales(who) or can_read_customer(db.session, who, customer)):
        return None
    if request.method in ("GET", "HEAD"):
        from flask import redirect
        survivor = request.path.replace(f"/api/v1/customers/{cid}", f"/api/v1/customers/{customer.merged_into_id}", 1)
        query = request.query_string.decode()
        return redirect(request.script_root + survivor + (f"?{query}" if query else ""), 308)
    raise ApiError(409, "Conflict", f"customer {cid} was merged into customer {customer.merged_into_id}",
                   errors=[{"field": "customer_id", "message": f"merged into {customer.merged_into_id}"}])

COLUMNS = ("id", "name", "industry", "region", "level", "source", "phone", "owner", "points", "last_follow_up_at",
           "created_at")


def _opt(n: int) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=n))


class CustomerIn(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    industry = _opt(100)
    region = _opt(100)
    level = fields.String(allow_none=True, validate=validate.OneOf(svc.LEVELS))
    source = _opt(100)
    phone = _opt(50)


class CustomerPatch(CustomerIn):
    name = fields.String(validate=validate.Length(min=1, max=200))


class CustomerListArgs(ListArgs):
    pool = fields.String(validate=validate.OneOf(["public"]))
    owner = fields.String(validate=validate.Length(max=100))
    industry = fields.String(validate=validate.Length(max=100))
    region = fields.String(validate=validate.Length(max=100))
    level = fields.String(validate=validate.OneOf(svc.LEVELS))
    q = fields.String(validate=validate.Length(max=200))


class ShareIn(Strict):
    user = fields.String(required=True, validate=validate.Length(min=1, max=100))
    access = fields.String(load_default="read", validate=validate.OneOf(["read", "edit"]))


class RedeemIn(Strict):
    points = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10_000_000))
    reward = fields.String(required=True, validate=validate.Length(min=1, max=150))


class AuditArgs(Strict):
    entity = fields.String(required=True, validate=validate.OneOf(ENTITIES))
    id = fields.Integer(required=True, validate=validate.Range(min=1))


class SettingsIn(Strict):
    pool_release_days = fields.Integer(strict=True)
    claim_cap = fields.Integer(strict=True)
    rfm_window_days = fields.Integer(strict=True)
    rfm_lost_days = fields.Integer(strict=True)
    rfm_high_value_days = fields.Integer(strict=True)
    rfm_high_value_amount = fields.Integer(strict=True)
    rfm_at_risk_days = fields.Integer(strict=True)
    tax_rate_bp = fields.Integer(strict=True)
    number_digits = fields.Integer(strict=True)


class ImportArgs(Strict):
    kind = fields.String(load_default="customers", validate=validate.OneOf(["customers", "contacts"]))


@bp.get("/customers")
@login_required
def list_customers():  # noqa: ANN201
    """Customers in the caller's scope (or `?pool=public`), as JSON pages or `?format=csv|xlsx`."""
    args = query_args(CustomerListArgs)
    query = svc.list_query(viewer(), pool=args.get("pool") == "public", filters=args)
    return list_response("customers", query, args, svc.customer_dict, COLUMNS)


@bp.post("/customers")
@login_required
def create_customer():  # noqa: ANN201
    """Create a customer owned by the caller; 409 naming an existing duplicate."""
    body = json_body(CustomerIn)
    return done(svc.customer_dict(svc.create_customer(db.session, viewer(), body)), 201)


@bp.get("/customers/<int:customer_id>")
@login_required
def get_one(customer_id: int) -> dict:
    """One customer, with who it is shared with, its visit plans and its balance (a merged-away customer
    redirects to the one it was merged into)."""
    v = viewer()
    customer = get_customer(db.session, v, customer_id)
    if customer.merged_into_id is not None:
        from flask import redirect
        return redirect(f"{request.script_root}/api/v1/customers/{customer.merged_into_id}", 308)
    from crm.invoices import balance_of
    return (svc.customer_dict(customer) | {"shares": svc.shares_of(db.session, customer),
                                           "visit_plans": svc.visit_plans_of(db.session, customer)}
            | balance_of(db.session, customer))


@bp.patch("/customers/<int:customer_id>")
@login_required
def update(customer_id: int):  # noqa: ANN201
    """Change fields of a customer the caller may edit (audited)."""
    body = json_body(CustomerPatch)
    return done(svc.customer_dict(svc.update_customer(db.session, viewer(), customer_id, body)))


@bp.post("/customers/<int:customer_id>/claim")
@login_required
def claim(customer_id: int):  # noqa: ANN201
    """Take a customer from the public pool (409 if owned or over the per-rep cap)."""
    return done(svc.customer_dict(claim_customer(db.session, viewer(), customer_id)))


@bp.post("/customers/<int:customer_id>/shares")
@login_required
def share(customer_id: int):  # noqa: ANN201
    """Share a customer with a colleague for read or edit."""
    body = json_body(ShareIn)
    row = svc.share_customer(db.session, viewer(), customer_id, body["user"], body["access"])
    return done({"customer_id": row.customer_id, "user": row.username, "access": row.access}, 201)


@bp.delete("/customers/<int:customer_id>/shares/<string:username>")
@login_required
def unshare(customer_id: int, username: str):  # noqa: ANN201
    """Withdraw a share."""
    svc.unshare_customer(db.session, viewer(), customer_id, username)
    db.session.commit()
    return "", 204


@bp.get("/customers/<int:customer_id>/points")
@login_required
def points(customer_id: int) -> dict:
    """The loyalty balance and ledger."""
    return svc.points_ledger(db.session, viewer(), customer_id)


@bp.post("/customers/<int:customer_id>/points/redeem")
@login_required
def redeem(customer_id: int):  # noqa: ANN201
    """Redeem points for a reward (409 if the balance is too small)."""
    body = json_body(RedeemIn)
    svc.redeem_points(db.session, viewer(), customer_id, body["points"], body["reward"])
    db.session.commit()
    return svc.points_ledger(db.session, viewer(), customer_id), 201


@bp.get("/customers/<int:customer_id>/satisfaction")
@login_required
def satisfaction(customer_id: int) -> dict:
    """Satisfaction scores from follow-ups and closed tickets."""
    return svc.satisfaction(db.session, viewer(), customer_id)


@bp.post("/customers/import")
@login_required
def import_file():  # noqa: ANN201
    """Import customers (or `?kind=contacts`) from a CSV/XLSX part named `file`; all rows or none."""
    args = query_args(ImportArgs)
    upload = request.files.get("file")
    if upload is None:
        raise InvalidData("send the file as a multipart part named 'file'",
                          errors=[{"field": "file", "message": "missing"}])
    rows = read_table(upload.filename or "", upload.read())
    any_rows(rows)
    v = viewer()
    if args["kind"] == "contacts":
        created = import_contacts(db.session, v, rows)
    else:
        aliases = current_app.extensions.get("crm.import_aliases")  # option labels, from the web app's choices
        headers = current_app.extensions.get("crm.import_headers")  # column labels (名称 for name), from there too
        created = import_customers(db.session, v, rows, aliases() if aliases else None,
                                   headers() if headers else None)
    return done({"kind": args["kind"], "imported": len(created), "ids": [c.id for c in created]}, 201)


@bp.get("/audit")
@login_required
def audit() -> dict:
    """The audit trail of one CRM record: `?entity=customer&id=7`."""
    args = query_args(AuditArgs)
    items = audit_trail(db.session, viewer(), args["entity"], args["id"])
    return {"items": items, "total": len(items)}


@bp.get("/crm/settings")
@login_required
def get_settings() -> dict:
    """The CRM settings (pool release days, claim cap)."""
    viewer()
    return all_settings(db.session)


@bp.put("/crm/settings")
@login_required
def put_settings():  # noqa: ANN201
    """Change CRM settings (administrators)."""
    require_roles("admin")
    body = json_body(SettingsIn)
    return done(change_settings(db.session, body))
