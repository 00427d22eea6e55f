"""Owner operations on customers: transfer, release to the public pool, hand-over of a departing employee's
work, and merging duplicates (all audited; crm.ownership)."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import fields, validate

from api.auth import login_required
from api.extensions import db
from api.http import json_body
from api.routes._crm_common import done, viewer
from api.schemas import Strict
from crm import ownership as svc
from crm.customers import customer_dict
from engine.runtime import begin_write

bp = Blueprint("ownership", __name__)
ID = validate.Range(min=1, max=2**31 - 1)


class TransferIn(Strict):
    to = fields.String(required=True, validate=validate.Length(min=1, max=100))


class HandoverIn(Strict):
    from_ = fields.String(required=True, data_key="from", validate=validate.Length(min=1, max=100))
    to = fields.String(required=True, validate=validate.Length(min=1, max=100))


class MergeIn(Strict):
    keep = fields.Integer(required=True, strict=True, validate=ID)
    merge = fields.Integer(required=True, strict=True, validate=ID)


class ReleaseIn(Strict):
    pass


@bp.post("/customers/<int:customer_id>/transfer")
@login_required
def transfer(customer_id: int):  # noqa: ANN201
    """Give a customer, its open opportunities and pending follow-ups to another rep (owner, manager, admin)."""
    body = json_body(TransferIn)
    begin_write(db.session)
    return done(svc.transfer_customer(db.session, viewer(), customer_id, body["to"]))


transfer.openapi_body = TransferIn


@bp.post("/customers/<int:customer_id>/release")
@login_required
def release(customer_id: int):  # noqa: ANN201
    """Return a customer to the public pool (公海) by hand (owner, manager, admin)."""
    json_body(ReleaseIn)
    begin_write(db.session)
    return done(customer_dict(svc.release_customer(db.session, viewer(), customer_id)))


release.openapi_body = ReleaseIn


@bp.post("/customers/handover")
@login_required
def handover():  # noqa: ANN201
    """Hand everything one employee owns to another in one step (administrators, or the employee's manager)."""
    body = json_body(HandoverIn)
    begin_write(db.session)
    return done(svc.hand_over(db.session, viewer(), body["from_"], body["to"]))


handover.openapi_body = HandoverIn


@bp.post("/customers/merge")
@login_required
def merge():  # noqa: ANN201
    """Merge duplicate customer `merge` into `keep` (edit access to both); the merged one redirects."""
    body = json_body(MergeIn)
    begin_write(db.session)
    return done(svc.merge_customers(db.session, viewer(), body["keep"], body["merge"]))


merge.openapi_body = MergeIn
