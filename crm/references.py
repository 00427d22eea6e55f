"""CRM record types for typed form references (`x-oaflow-ref`), registered into forms.references by the app.

Each resolver loads the record and, for a user, applies the same data-scope rule as the CRM endpoints
(crm.access), without task grants: an unknown record and one outside the user's scope get the same answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from crm.access import initiator_viewer
from crm.models import Contact, Contract, Customer, Opportunity, Ticket
from forms.references import ReferenceRegistry, ReferenceViolation
from store.errors import DomainError

MAX_ID = 2**31 - 1  # ids are 32-bit integer columns; a bigger number names nothing (and must not reach SQL)


def _id(value: Any, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise ReferenceViolation(f"not a {label} id")
    return value


def _resolver(model: type, label: str, access: Callable[..., Any]) -> Callable[[Session, str | None, Any, bool], Any]:
    def resolve(session: Session, username: str | None, value: Any, edit: bool) -> Any:
        record_id = _id(value, label)
        row = session.get(model, record_id)
        if row is None:
            raise ReferenceViolation(f"unknown {label}")
        if username is not None:
            try:
                access(session, initiator_viewer(session, username), record_id, edit)
            except DomainError as err:
                if err.status == 403:
                    raise ReferenceViolation(f"you may read {label} {record_id} but not change it") from None
                raise ReferenceViolation(f"unknown {label}") from None
        return row
    resolve.__doc__ = f"The {label} for a user in scope (or for nobody: existence only)."
    return resolve


def _customer(session: Session, viewer: Any, record_id: int, edit: bool) -> Any:
    from crm.access import get_customer
    return get_customer(session, viewer, record_id, edit=edit)


def _opportunity(session: Session, viewer: Any, record_id: int, edit: bool) -> Any:
    from crm.access import get_opportunity
    return get_opportunity(session, viewer, record_id, edit=edit)


def _contract(session: Session, viewer: Any, record_id: int, edit: bool) -> Any:
    from crm.contracts import get_contract
    return get_contract(session, viewer, record_id, edit=edit)


def _contact(session: Session, viewer: Any, record_id: int, edit: bool) -> Any:
    from crm.contacts import get_contact
    return get_contact(session, viewer, record_id, edit=edit)


def _ticket(session: Session, viewer: Any, record_id: int, edit: bool) -> Any:
    from crm.tickets import get_ticket
    return get_ticket(session, viewer, record_id)


def _order(session: Session, viewer: Any, record_id: int, edit: bool) -> Any:
    from crm.orders import get_order
    return get_order(session, viewer, record_id, edit=edit)


def register(registry: ReferenceRegistry) -> None:
    """Register crm.customer, crm.opportunity, crm.contract, crm.contact, crm.ticket and crm.order."""
    from crm.models import SalesOrder
    from crm.orders import STATUSES as ORDER_STATUSES
    from crm.tickets import STATUSES
    registry.register("crm.customer", _resolver(Customer, "customer", _customer))
    registry.register("crm.opportunity", _resolver(Opportunity, "opportunity", _opportunity),
                      states={"status": {"open", "won", "lost"}})
    registry.register("crm.contract", _resolver(Contract, "contract", _contract),
                      states={"status": {"draft", "active", "closed"}})
    registry.register("crm.contact", _resolver(Contact, "contact", _contact))
    registry.register("crm.ticket", _resolver(Ticket, "ticket", _ticket), states={"status": set(STATUSES)})
    registry.register("crm.order", _resolver(SalesOrder, "order", _order), states={"status": set(ORDER_STATUSES)})
