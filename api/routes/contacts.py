"""Contacts of customers, in the caller's data scope; `?format=csv|xlsx` exports."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from api.auth import login_required
from api.extensions import db
from api.http import json_body, query_args
from api.routes._crm_common import ListArgs, done, list_response, viewer
from crm import contacts as svc

bp = Blueprint("contacts", __name__)
COLUMNS = ("id", "customer_id", "name", "title", "phone", "email", "created_at")


class ContactIn(Schema):
    class Meta:
        unknown = RAISE

    customer_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    title = fields.String(allow_none=True, validate=validate.Length(max=100))
    phone = fields.String(allow_none=True, validate=validate.Length(max=50))
    email = fields.Email(allow_none=True, validate=validate.Length(max=200))


class ContactPatch(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(min=1, max=200))
    title = fields.String(allow_none=True, validate=validate.Length(max=100))
    phone = fields.String(allow_none=True, validate=validate.Length(max=50))
    email = fields.Email(allow_none=True, validate=validate.Length(max=200))


class ContactListArgs(ListArgs):
    customer_id = fields.Integer(validate=validate.Range(min=1))
    q = fields.String(validate=validate.Length(max=200))


@bp.get("/contacts")
@login_required
def list_contacts():  # noqa: ANN201
    """Contacts of customers the caller sees."""
    args = query_args(ContactListArgs)
    return list_response("contacts", svc.list_query(viewer(), args), args, svc.contact_dict, COLUMNS)


@bp.post("/contacts")
@login_required
def create():  # noqa: ANN201
    """Add a contact to a customer the caller may edit."""
    body = json_body(ContactIn)
    return done(svc.contact_dict(svc.create_contact(db.session, viewer(), body)), 201)


@bp.get("/contacts/<int:contact_id>")
@login_required
def get_one(contact_id: int) -> dict:
    """One contact."""
    return svc.contact_dict(svc.get_contact(db.session, viewer(), contact_id))


@bp.patch("/contacts/<int:contact_id>")
@login_required
def update(contact_id: int):  # noqa: ANN201
    """Change a contact (audited)."""
    body = json_body(ContactPatch)
    return done(svc.contact_dict(svc.update_contact(db.session, viewer(), contact_id, body)))


@bp.delete("/contacts/<int:contact_id>")
@login_required
def delete(contact_id: int):  # noqa: ANN201
    """Remove a contact (audited)."""
    svc.delete_contact(db.session, viewer(), contact_id)
    db.session.commit()
    return "", 204
