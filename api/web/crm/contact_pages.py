"""Contacts on the customer page: add one (errors inline on the customer page) and edit one on its own form.

Views over crm.contacts with the logged-in viewer: only someone who may edit the customer adds or changes its
contacts (403 for a read-only share, 404 outside the scope).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, fields, validate

from api.extensions import db
from api.web.blueprint import bp
from api.web.common.forms import load_form
from api.web.crm.customer_pages import render_customer
from api.web.crm.pages import crm_viewer, field_errors
from crm import contacts as contacts_svc
from crm.access import get_customer
from store.errors import InvalidData


class ContactForm(Schema):
    """A contact's fields with the API's caps."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    title = fields.String(validate=validate.Length(max=100))
    phone = fields.String(validate=validate.Length(max=50))
    email = fields.Email(validate=validate.Length(max=200))


@bp.post("/customers/<int:customer_id>/contacts")
def add_contact(customer_id: int) -> Any:
    """Add a contact to a customer I may edit; errors re-render the customer page with the form filled."""
    v = crm_viewer()
    found = get_customer(db.session, v, customer_id, edit=True)
    data, errors, raw = load_form(ContactForm())
    if not errors:
        try:
            contacts_svc.create_contact(db.session, v, {**data, "customer_id": customer_id})
            db.session.commit()
        except InvalidData as err:
            db.session.rollback()
            errors = field_errors(err)
            found = get_customer(db.session, v, customer_id)
        else:
            flash(_("Contact added."), "ok")
            return redirect(url_for("web.customer", customer_id=customer_id) + "#contacts")
    return render_customer(found, status=422, contact_values=raw, contact_errors=errors)


@bp.get("/contacts/<int:contact_id>/edit")
def edit_contact(contact_id: int) -> str:
    """The edit form of a contact whose customer I may edit."""
    contact = contacts_svc.get_contact(db.session, crm_viewer(), contact_id, edit=True)
    values = {k: getattr(contact, k) or "" for k in contacts_svc.FIELDS}
    return render_template("crm/contact_form.html", contact=contact, values=values, errors={})


@bp.post("/contacts/<int:contact_id>/edit")
def update_contact(contact_id: int) -> Any:
    """Save a contact (audited); a field left empty is cleared, errors stay on the form."""
    v = crm_viewer()
    contact = contacts_svc.get_contact(db.session, v, contact_id, edit=True)
    data, errors, raw = load_form(ContactForm())
    if not errors:
        try:
            contacts_svc.update_contact(db.session, v, contact_id, {k: data.get(k) for k in contacts_svc.FIELDS})
            db.session.commit()
        except InvalidData as err:
            db.session.rollback()
            errors = field_errors(err)
        else:
            flash(_("Contact saved."), "ok")
            return redirect(url_for("web.customer", customer_id=contact.customer_id) + "#contacts")
    return render_template("crm/contact_form.html", contact=contact, values=raw, errors=errors), 422
