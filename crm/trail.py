"""Reading the audit trail of one CRM record, for whoever may read that record."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crm import audit
from crm.access import Viewer, get_customer, get_opportunity
from crm.models import FollowUp, ReceivablePlan, SalesTarget, VisitPlan
from store.errors import InvalidData, NotFound

ENTITIES = ("customer", "contact", "opportunity", "follow_up", "visit_plan", "ticket", "contract",
            "receivable_plan", "target", "product", "quote", "order", "invoice")


def _check(session: Session, viewer: Viewer, entity: str, entity_id: int) -> None:
    from crm.contacts import get_contact
    from crm.contracts import get_contract
    from crm.tickets import get_ticket
    if entity == "customer":
        get_customer(session, viewer, entity_id)
    elif entity == "contact":
        get_contact(session, viewer, entity_id)
    elif entity == "opportunity":
        get_opportunity(session, viewer, entity_id)
    elif entity in ("follow_up", "visit_plan"):
        row = session.get(FollowUp if entity == "follow_up" else VisitPlan, entity_id)
        if row is None:
            raise NotFound(f"no {entity} {entity_id}")
        get_customer(session, viewer, row.customer_id)
    elif entity == "ticket":
        get_ticket(session, viewer, entity_id)
    elif entity == "contract":
        get_contract(session, viewer, entity_id)
    elif entity == "receivable_plan":
        plan = session.get(ReceivablePlan, entity_id)
        if plan is None:
            raise NotFound(f"no receivable_plan {entity_id}")
        get_contract(session, viewer, plan.contract_id)
    elif entity == "target":
        target = session.get(SalesTarget, entity_id)
        if target is None or not (viewer.is_admin or target.owner in viewer.owners):
            raise NotFound(f"no target {entity_id}")
    elif entity in ("product", "quote", "order", "invoice"):
        _check_sales(session, viewer, entity, entity_id)
    else:
        raise InvalidData("unknown entity", errors=[{"field": "entity", "message": f"one of {', '.join(ENTITIES)}"}])


def audit_trail(session: Session, viewer: Viewer, entity: str, entity_id: int) -> list[dict[str, Any]]:
    """Every audit row of the record, oldest first (404 if the viewer may not read the record)."""
    _check(session, viewer, entity, entity_id)
    return [audit.as_dict(e) for e in audit.entries(session, entity, entity_id)]


def _check_sales(session: Session, viewer: Viewer, entity: str, entity_id: int) -> None:
    """Products are public to staff; quotes, orders and invoices follow their own read rules."""
    from crm.invoices import get_invoice
    from crm.orders import get_order
    from crm.products import get_product
    from crm.quotes import get_quote
    {"product": lambda: get_product(session, entity_id), "quote": lambda: get_quote(session, viewer, entity_id),
     "order": lambda: get_order(session, viewer, entity_id),
     "invoice": lambda: get_invoice(session, viewer, entity_id)}[entity]()
