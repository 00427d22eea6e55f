"""Contacts: the people at a customer; they follow the customer's data scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from crm import audit
from crm.access import Viewer, can_edit_customer, can_read_customer, customer_of_row_visible, get_customer
from crm.common import iso
from crm.models import Contact, Customer
from store.base import utcnow
from store.errors import Forbidden, NotFound

FIELDS = ("name", "title", "phone", "email")


def contact_dict(c: Contact) -> dict[str, Any]:
    """JSON shape of a contact."""
    return {"id": c.id, "customer_id": c.customer_id, "name": c.name, "title": c.title, "phone": c.phone,
            "email": c.email, "created_at": iso(c.created_at)}


def create_contact_row(session: Session, viewer: Viewer, customer_id: int, data: dict[str, Any]) -> Contact:
    """Insert a contact (access already checked) and audit it."""
    contact = Contact(customer_id=customer_id, created_at=utcnow(), **{k: data.get(k) for k in FIELDS})
    session.add(contact)
    session.flush()
    audit.record(session, "contact", contact.id, viewer.username, "create",
                 {k: (None, v) for k, v in data.items() if v is not None})
    return contact


def create_contact(session: Session, viewer: Viewer, data: dict[str, Any]) -> Contact:
    """Add a contact to a customer the viewer may edit."""
    customer = get_customer(session, viewer, data["customer_id"], edit=True, field="customer_id")
    return create_contact_row(session, viewer, customer.id, data)


def get_contact(session: Session, viewer: Viewer, contact_id: int, *, edit: bool = False) -> Contact:
    """The contact if the viewer may read (or edit) its customer."""
    contact = session.get(Contact, contact_id)
    customer = session.get(Customer, contact.customer_id) if contact else None
    if customer is None or customer.owner is None and not viewer.is_admin \
            or not can_read_customer(session, viewer, customer):
        raise NotFound(f"no contact {contact_id}")
    if edit and not can_edit_customer(session, viewer, customer):
        raise Forbidden(f"you may read contact {contact_id} but not change it")
    return contact


def update_contact(session: Session, viewer: Viewer, contact_id: int, data: dict[str, Any]) -> Contact:
    """Change a contact's fields (audited)."""
    contact = get_contact(session, viewer, contact_id, edit=True)
    changes = audit.apply_changes(contact, {k: v for k, v in data.items() if k in FIELDS})
    if changes:
        audit.record(session, "contact", contact.id, viewer.username, "update", changes)
    session.flush()
    return contact


def delete_contact(session: Session, viewer: Viewer, contact_id: int) -> None:
    """Remove a contact (audited)."""
    contact = get_contact(session, viewer, contact_id, edit=True)
    audit.record(session, "contact", contact.id, viewer.username, "delete", {"name": (contact.name, None)})
    session.delete(contact)
    session.flush()


def list_query(viewer: Viewer, filters: dict[str, Any]) -> Select:
    """Contacts of customers the viewer sees."""
    query = select(Contact).where(customer_of_row_visible(viewer, Contact.customer_id))
    if filters.get("customer_id") is not None:
        query = query.where(Contact.customer_id == filters["customer_id"])
    if filters.get("q"):
        query = query.where(Contact.name.icontains(filters["q"], autoescape=True))
    return query.order_by(Contact.id)
