"""CRM operations that BPMN service tasks may call (registered into the engine by the app factory).

Each receives an engine.services.ServiceCall and works inside the step's transaction: none of them commits.
Bad parameters raise InvalidData/NotFound/Conflict, which the engine reports to the caller.

Every operation writes under the data scope of the instance's INITIATOR (crm.access.initiator_viewer), checked
again at the moment of writing: a flow cannot write to a record its starter may not (or no longer) touch, and
the instance stops with an incident instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from crm.access import FINANCE_GROUP, Viewer, get_customer, get_opportunity, initiator_viewer
from crm.models import Customer, Opportunity, Ticket
from crm.references import MAX_ID
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
    record_id = _int(params, name)
    row = session.get(model, record_id) if 0 < record_id <= MAX_ID else None  # bigger: no such id (nor SQL)
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


def _own_user(call: ServiceCall, viewer: Viewer, also: tuple[str | None, ...] = ()) -> str:
    """The `user` parameter (default: the initiator), who must be the initiator or in their team (or one of
    `also`: e.g. the assignee of the ticket the write is about); the rule POST /visit-plans applies."""
    user = str(call.params.get("user") or call.actor or call.started_by)
    if not (viewer.is_admin or user in viewer.owners or user in also):
        raise Forbidden(f"the initiator {call.started_by} may not act for {user}")
    return user


# the close reason a contract approval writes (pages show it in the reader's language, with a link to the request)
WON_BY_APPROVAL = "approved by contract approval"


def mark_opportunity_won(call: ServiceCall) -> dict[str, Any]:
    """Mark the opportunity won and create (or activate) its contract; idempotent."""
    from crm.opportunities import mark_won
    opp = _in_scope(call, Opportunity, "opportunity_id", edit=True)
    contract = mark_won(call.session, opp, call.started_by, f"{WON_BY_APPROVAL} #{call.instance_id}",
                        call.params.get("contract_title"), call.params.get("amount"))
    return {"opportunity_id": opp.id, "contract_id": contract.id, "status": opp.status}


def create_visit_plan(call: ServiceCall) -> dict[str, Any]:
    """Plan a visit to a customer the initiator may change, on a date, for a user of their team."""
    from crm.follow_ups import create_visit_plan as plan
    customer = _in_scope(call, Customer, "customer_id", edit=True)
    user = _own_user(call, initiator_viewer(call.session, call.started_by))
    row = plan(call.session, customer, user, _date(call.params, "visit_date"), call.params.get("purpose"),
               call.instance_id)
    return {"visit_plan_id": row.id}


def _follow_up_ticket(call: ServiceCall, customer: Customer | None) -> Ticket | None:
    """The optional ticket a follow-up closes: one the initiator sees, on the follow-up's customer."""
    if call.params.get("ticket_id") in (None, ""):
        return None
    ticket = _in_scope(call, Ticket, "ticket_id")
    if customer is not None and ticket.customer_id != customer.id:
        raise InvalidData("the ticket belongs to another customer",
                          errors=[{"field": "ticket_id", "message": "belongs to another customer"}])
    return ticket


def add_follow_up(call: ServiceCall) -> dict[str, Any]:
    """Record a follow-up on a customer the initiator may change (as POST /follow-ups requires), by the
    initiator or a user of their team (or the assignee of the ticket it closes), with a satisfaction score
    and the ticket, if given."""
    from crm.follow_ups import record_follow_up
    customer = _in_scope(call, Customer, "customer_id", edit=True)
    ticket = _follow_up_ticket(call, customer)
    user = _own_user(call, initiator_viewer(call.session, call.started_by),
                     (ticket.assignee,) if ticket is not None else ())
    row = record_follow_up(call.session, customer, user,
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


def _closable_ticket(call: ServiceCall) -> Ticket:
    """The ticket named by `ticket_id`, if the initiator may close it (the rule of POST /tickets/{id}/close)."""
    from crm.tickets import may_close
    ticket = _in_scope(call, Ticket, "ticket_id")
    if not may_close(call.session, initiator_viewer(call.session, call.started_by), ticket):
        raise Forbidden(f"the initiator {call.started_by} may not close ticket {ticket.id}")
    return ticket


def record_ticket_outcome(call: ServiceCall) -> dict[str, Any]:
    """Close a ticket the initiator may close with its outcome and the customer's satisfaction (1-5) if given;
    the closer is the initiator, a user of their team or the ticket's assignee."""
    from crm.tickets import record_outcome
    ticket = _closable_ticket(call)
    user = _own_user(call, initiator_viewer(call.session, call.started_by), (ticket.assignee,))
    record_outcome(call.session, ticket, call.params.get("outcome"), user, _satisfaction(call.params))
    return {"ticket_id": ticket.id, "status": ticket.status, "satisfaction": ticket.satisfaction}


def _precheck(checks: dict[str, Callable[[ServiceCall], Any]]) -> Any:
    """A start-time precheck running `checks` (parameter -> the operation's own check) on the known parameters."""
    def precheck(session: Any, username: str, known: dict[str, Any]) -> list[tuple[str, str]]:
        call = ServiceCall(params=known, instance_id=None, business_key=None, started_by=username,
                           session=session)
        problems = []
        for param, check in checks.items():
            if param not in known:
                continue
            try:
                check(call)
            except DomainError as err:
                problems.append((param, err.detail))
        return problems
    return precheck


def _ticket_assignee(call: ServiceCall) -> tuple[str | None, ...]:
    """The assignee of the ticket named in the call, if it names one the initiator sees."""
    if call.params.get("ticket_id") in (None, ""):
        return ()
    try:
        return (_in_scope(call, Ticket, "ticket_id").assignee,)
    except DomainError:
        return ()


def _user_check(call: ServiceCall) -> None:
    _own_user(call, initiator_viewer(call.session, call.started_by), _ticket_assignee(call))


_CUSTOMER_EDIT = {"customer_id": lambda call: _in_scope(call, Customer, "customer_id", edit=True)}
_PRECHECKS = {
    "crm.mark_opportunity_won": _precheck(
        {"opportunity_id": lambda call: _in_scope(call, Opportunity, "opportunity_id", edit=True)}),
    "crm.create_visit_plan": _precheck({**_CUSTOMER_EDIT, "user": _user_check}),
    "crm.add_follow_up": _precheck({**_CUSTOMER_EDIT, "ticket_id": lambda call: _in_scope(call, Ticket, "ticket_id"),
                                    "user": _user_check}),
    "crm.record_ticket_outcome": _precheck({"ticket_id": _closable_ticket, "user": _user_check}),
    "crm.order_submitted": _precheck({"order_id": lambda call: _order_in_scope(call, in_flow=False)}),
    "crm.order_decided": _precheck({"order_id": lambda call: _order_in_scope(call, in_flow=False)}),
    "crm.order_cancelled": _precheck({"order_id": lambda call: _order_in_scope(call, in_flow=False)}),
}


def register(registry: ServiceRegistry) -> None:
    """Register the CRM operations."""
    registry.register("crm.mark_opportunity_won", mark_opportunity_won,
                      params={"contract_title", "amount"}, required={"opportunity_id"},
                      precheck=_PRECHECKS["crm.mark_opportunity_won"])
    registry.register("crm.create_visit_plan", create_visit_plan,
                      params={"purpose", "user"}, required={"customer_id", "visit_date"},
                      precheck=_PRECHECKS["crm.create_visit_plan"])
    registry.register("crm.add_follow_up", add_follow_up,
                      params={"next_follow_up_date", "user", "type", "satisfaction", "ticket_id"},
                      required={"customer_id", "content"}, precheck=_PRECHECKS["crm.add_follow_up"])
    registry.register("crm.record_ticket_outcome", record_ticket_outcome,
                      params={"user", "satisfaction"}, required={"ticket_id", "outcome"},
                      precheck=_PRECHECKS["crm.record_ticket_outcome"])
    register_sales(registry)


# --- sales orders (sales_order_approval) ---

def _in_order_flow(call: ServiceCall, order: Any, own_round: bool = True) -> None:
    """Order steps move an order only inside its approval flow (`sales_order_approval`), and - past submitting -
    only inside the round the order is in: a designer's flow that strings `order_submitted` and
    `order_decided(approved)` together would confirm an order nobody approved."""
    from crm.orders import PROCESS_KEY
    if call.process_key != PROCESS_KEY:
        raise Forbidden(f"orders move only through the {PROCESS_KEY} flow")
    if own_round and order.instance_id != call.instance_id:
        raise Forbidden(f"order {order.id} is not in this approval round")


def _order_in_scope(call: ServiceCall, own_round: bool = True, in_flow: bool = True) -> Any:
    """The order named by `order_id`, if the initiator may still change it, moved by its own approval flow
    (`in_flow=False`: the start-time check, which has no instance yet)."""
    from crm.models import SalesOrder
    from crm.orders import get_order
    row = _get(call.session, SalesOrder, call.params, "order_id")
    if in_flow:
        _in_order_flow(call, row, own_round)
    try:
        get_order(call.session, initiator_viewer(call.session, call.started_by), row.id, edit=True)
    except DomainError:
        raise Forbidden(f"the initiator {call.started_by} may not change order {row.id} (any more)") from None
    return row


def order_submitted(call: ServiceCall) -> dict[str, Any]:
    """Open an approval round (order -> pending); returns the total, largest discount and the customer's credit."""
    from crm.orders import mark_submitted
    order = _order_in_scope(call, own_round=False)
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
                      str(call.params.get("reason") or "").strip()[:4000] or None)
    return {"order_id": order.id, "status": order.status, "contract_id": order.contract_id}


def order_cancelled(call: ServiceCall) -> dict[str, Any]:
    """The rep gave up revising: the order is cancelled."""
    from crm.orders import mark_cancelled
    order = _order_in_scope(call)
    mark_cancelled(call.session, order.id, call.started_by)
    return {"order_id": order.id, "status": "cancelled"}


def issue_invoice(call: ServiceCall) -> dict[str, Any]:
    """Finance issues the invoice of a confirmed order (issued_on, default today); the issuer is `user` if given,
    else whoever completed the invoice task (the step's actor), else the initiator. Invoices recorded by hand
    (POST /invoices) while the task was open count: only what is left is invoiced, and an order invoiced in full
    already completes the step without a new invoice (`already_invoiced`), never an incident."""
    from crm.invoices import invoices_of, left_to_invoice
    from crm.invoices import issue_invoice as issue
    from crm.models import SalesOrder
    order = _get(call.session, SalesOrder, call.params, "order_id")
    _in_order_flow(call, order)
    issuer = str(call.params.get("user") or call.actor or call.started_by)
    from oa.org import OrgDirectory
    directory = OrgDirectory(call.session)
    if FINANCE_GROUP not in directory.groups_of(issuer) or not directory.is_employee(issuer):
        raise Forbidden(f"only finance issues invoices, not {issuer[:100]}")
    order = call.session.get(SalesOrder, order.id, with_for_update=True, populate_existing=True)  # vs POST /invoices
    if order.status == "confirmed" and left_to_invoice(call.session, order) <= 0:
        existing = invoices_of(call.session, order.id)
        return {"invoice_id": existing[-1].id if existing else None,
                "number": existing[-1].number if existing else None, "already_invoiced": True,
                "invoices": [i.number for i in existing]}
    invoice = issue(call.session, order.id, issuer, _date(call.params, "issued_on", required=False))
    return {"invoice_id": invoice.id, "number": invoice.number, "already_invoiced": False}


def register_sales(registry: ServiceRegistry) -> None:
    """Register the sales-order operations."""
    registry.register("crm.order_submitted", order_submitted, required={"order_id"},
                      precheck=_PRECHECKS["crm.order_submitted"])
    registry.register("crm.order_decided", order_decided, params={"reason", "decided_by"},
                      required={"order_id", "outcome"}, precheck=_PRECHECKS["crm.order_decided"])
    registry.register("crm.order_cancelled", order_cancelled, required={"order_id"},
                      precheck=_PRECHECKS["crm.order_cancelled"])
    registry.register("crm.issue_invoice", issue_invoice, params={"issued_on", "user"}, required={"order_id"})
