"""CRM operations that BPMN service tasks may call (registered into the engine by the app factory).

Each receives an engine.services.ServiceCall and works inside the step's transaction: none of them commits.
Bad parameters raise InvalidData/NotFound/Conflict, which the engine reports to the caller.

Every operation writes under the data scope of the instance's INITIATOR (crm.access.initiator_viewer), checked
again at the moment of writing: a flow cannot write to a record its starter may not (or no longer) touch, and
the instance stops with an incident instead.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from crm.access import Viewer, get_customer, get_opportunity, initiator_viewer
from crm.models import Customer, Opportunity, Ticket
from engine.services import ServiceCall, ServiceRegistry
from store.errors import DomainError, Forbidden, InvalidData, NotFound


def _int(params: dict[str, Any], name: str) -> int:
    value = params.get(name)
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise InvalidData(f"{name} must be an integer", errors=[{"field": name, "message": "not an integer"}]) from None


def _date(params: dict[str, Any], name: str, required: bool = True) -> date | None:
    value = params.get(name)
    if value in (None, "") and not required:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InvalidData(f"{name} must be a date", errors=[{"field": name, "message": "not a YYYY-MM-DD date"}]) \
            from None


def _get(session: Any, model: type, params: dict[str, Any], name: str) -> Any:
    row = session.get(model, _int(params, name))
    if row is None:
        raise NotFound(f"no {model.__name__.lower()} {params.get(name)}")
    return row


def _in_scope(call: ServiceCall, model: type, name: str, *, edit: bool = False) -> Any:
    """The record named by parameter `name`, if the initiator may read (`edit`: change) it right now."""
    row = _get(call.session, model, call.params, name)
    viewer = initiator_viewer(call.session, call.started_by)
    try:
        if model is Opportunity:
            get_opportunity(call.session, viewer, row.id, edit=edit)
        elif model is Customer:
            get_customer(call.session, viewer, row.id, edit=edit)
        elif model is Ticket:
            from crm.tickets import get_ticket
            get_ticket(call.session, viewer, row.id)
    except DomainError:
        raise Forbidden(f"the initiator {call.started_by} may not {'change' if edit else 'use'} "
                        f"{model.__name__.lower()} {row.id} (any more)") from None
    return row


def _own_user(call: ServiceCall, viewer: Viewer) -> str:
    """The `user` parameter (default: the initiator), who must be the initiator or in their team."""
    user = str(call.params.get("user") or call.actor or call.started_by)
    if not (viewer.is_admin or user in viewer.owners):
        raise Forbidden(f"the initiator {call.started_by} may not act for {user}")
    return user


def mark_opportunity_won(call: ServiceCall) -> dict[str, Any]:
    """Mark the opportunity won and create (or activate) its contract; idempotent."""
    from crm.opportunities import mark_won
    opp = _in_scope(call, Opportunity, "opportunity_id", edit=True)
    contract = mark_won(call.session, opp, call.started_by, "approved by contract approval",
                        call.params.get("contract_title"), call.params.get("amount"))
    return {"opportunity_id": opp.id, "contract_id": contract.id, "status": opp.status}


def create_visit_plan(call: ServiceCall) -> dict[str, Any]:
    """Plan a visit to a customer on a date, for a user."""
    from crm.follow_ups import create_visit_plan as plan
    customer = _in_scope(call, Customer, "customer_id")
    user = _own_user(call, initiator_viewer(call.session, call.started_by))
    row = plan(call.session, customer, user, _date(call.params, "visit_date"), call.params.get("purpose"),
               call.instance_id)
    return {"visit_plan_id": row.id}


def add_follow_up(call: ServiceCall) -> dict[str, Any]:
    """Record a follow-up on a customer (with a satisfaction score, and the ticket it closes, if given)."""
    from crm.follow_ups import record_follow_up
    customer = _in_scope(call, Customer, "customer_id")
    ticket = _get(call.session, Ticket, call.params, "ticket_id") if call.params.get("ticket_id") is not None \
        else None
    if ticket is not None and ticket.customer_id != customer.id:
        raise InvalidData("the ticket belongs to another customer",
                          errors=[{"field": "ticket_id", "message": "belongs to another customer"}])
    row = record_follow_up(call.session, customer, str(call.params.get("user") or call.actor or call.started_by),
                           str(call.params.get("type") or "visit"), call.params.get("content"),
                           _date(call.params, "next_follow_up_date", required=False),
                           _satisfaction(call.params))
    row.ticket_id = ticket.id if ticket is not None else None
    return {"follow_up_id": row.id}


def _satisfaction(params: dict[str, Any]) -> int | None:
    """The optional 1-5 satisfaction score of a ticket outcome or follow-up (422 naming it otherwise)."""
    if params.get("satisfaction") in (None, ""):
        return None
    value = _int(params, "satisfaction")
    if not 1 <= value <= 5:
        raise InvalidData("satisfaction must be 1 to 5", errors=[{"field": "satisfaction", "message": "1 to 5"}])
    return value


def record_ticket_outcome(call: ServiceCall) -> dict[str, Any]:
    """Close a ticket with its outcome and the customer's satisfaction (1-5) if given."""
    from crm.tickets import record_outcome
    ticket = _in_scope(call, Ticket, "ticket_id")
    record_outcome(call.session, ticket, call.params.get("outcome"), call.params.get("user") or call.started_by,
                   _satisfaction(call.params))
    return {"ticket_id": ticket.id, "status": ticket.status, "satisfaction": ticket.satisfaction}


def register(registry: ServiceRegistry) -> None:
    """Register the CRM operations."""
    registry.register("crm.mark_opportunity_won", mark_opportunity_won,
                      params={"contract_title", "amount"}, required={"opportunity_id"})
    registry.register("crm.create_visit_plan", create_visit_plan,
                      params={"purpose", "user"}, required={"customer_id", "visit_date"})
    registry.register("crm.add_follow_up", add_follow_up,
                      params={"next_follow_up_date", "user", "type", "satisfaction", "ticket_id"},
                      required={"customer_id", "content"})
    registry.register("crm.record_ticket_outcome", record_ticket_outcome,
                      params={"user", "satisfaction"}, required={"ticket_id", "outcome"})
    register_sales(registry)


# --- sales orders (sales_order_approval) ---

def _order_in_scope(call: ServiceCall) -> Any:
    """The order named by `order_id`, if the initiator may still change it."""
    from crm.models import SalesOrder
    from crm.orders import get_order
    row = _get(call.session, SalesOrder, call.params, "order_id")
    try:
        get_order(call.session, initiator_viewer(call.session, call.started_by), row.id, edit=True)
    except DomainError:
        raise Forbidden(f"the initiator {call.started_by} may not change order {row.id} (any more)") from None
    return row


def order_submitted(call: ServiceCall) -> dict[str, Any]:
    """Open an approval round (order -> pending); returns the total, largest discount and the customer's credit."""
    from crm.orders import mark_submitted
    order = _order_in_scope(call)
    return mark_submitted(call.session, order.id, call.started_by, call.instance_id)


def order_decided(call: ServiceCall) -> dict[str, Any]:
    """Record the outcome of a round: `approved` confirms the order (contract, plans, opportunity won), anything
    else rejects it with `reason`."""
    from crm.orders import confirm, mark_rejected
    order = _order_in_scope(call)
    if call.params.get("outcome") == "approved":
        confirm(call.session, order.id, call.started_by)
    else:
        mark_rejected(call.session, order.id, str(call.params.get("decided_by") or "") or None,
                      str(call.params.get("reason") or "")[:4000] or None)
    return {"order_id": order.id, "status": order.status, "contract_id": order.contract_id}


def order_cancelled(call: ServiceCall) -> dict[str, Any]:
    """The rep gave up revising: the order is cancelled."""
    from crm.orders import mark_cancelled
    order = _order_in_scope(call)
    mark_cancelled(call.session, order.id, call.started_by)
    return {"order_id": order.id, "status": "cancelled"}


def issue_invoice(call: ServiceCall) -> dict[str, Any]:
    """Finance issues the invoice of a confirmed order (issued_on, default today); the issuer is `user` if given,
    else whoever completed the invoice task (the step's actor), else the initiator."""
    from crm.invoices import issue_invoice as issue
    from crm.models import SalesOrder
    order = _get(call.session, SalesOrder, call.params, "order_id")
    invoice = issue(call.session, order.id, str(call.params.get("user") or call.actor or call.started_by),
                    _date(call.params, "issued_on", required=False))
    return {"invoice_id": invoice.id, "number": invoice.number}


def register_sales(registry: ServiceRegistry) -> None:
    """Register the sales-order operations."""
    registry.register("crm.order_submitted", order_submitted, required={"order_id"})
    registry.register("crm.order_decided", order_decided, params={"reason", "decided_by"},
                      required={"order_id", "outcome"})
    registry.register("crm.order_cancelled", order_cancelled, required={"order_id"})
    registry.register("crm.issue_invoice", issue_invoice, params={"issued_on", "user"}, required={"order_id"})
