"""Sales orders (销售订单): created from a quote or directly for a customer, numbered SO-YYYY-NNNN, approved
through the `sales_order_approval` flow (draft -> pending -> confirmed | rejected -> pending again ... |
cancelled). Every state change is audited and goes out as a webhook event (`order.*`). Confirming an order
creates its receivable contract and plans (from the payment terms) and wins its opportunity."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, delete, func, select, true, update
from sqlalchemy.orm import Session

from crm import audit
from crm.access import Viewer, get_customer, reads_all_sales
from crm.common import CENT, iso, num, visible_text
from crm.models import Contract, Customer, Opportunity, OrderLine, OrderRound, Quote, ReceivablePlan, SalesOrder
from crm.numbering import next_number
from crm.pricing import line_dict, price_lines, tax_rate, totals
from crm.quotes import check_access, get_quote, lines_of, live, opportunity_of, require_open, visible_clause
from store.base import utcnow
from store.clock import company_date
from store.errors import Conflict, Forbidden, InvalidData, NotFound
from store.messages import Message

STATUSES = ("draft", "pending", "confirmed", "rejected", "cancelled")
EDITABLE = ("draft", "rejected")
# an order in these states is not yet a receivable: what the customer would owe with it adds its total (a confirmed
# order is already an active contract in the outstanding receivables; a cancelled one will never be owed)
NOT_YET_OWED = ("draft", "pending", "rejected")
# payment terms -> instalments (percent of the total, days after confirmation)
TERMS: dict[str, tuple[tuple[int, int], ...]] = {
    "prepaid": ((100, 0),), "net30": ((100, 30),), "net60": ((100, 60),), "30_70": ((30, 0), (70, 60)),
}
PROCESS_KEY = "sales_order_approval"
# flows started from their record's page (the order page's "submit"), never from a blank or copied form
STARTED_FROM_RECORD = frozenset({PROCESS_KEY})


def order_dict(o: SalesOrder, lines: list[OrderLine] | None = None) -> dict[str, Any]:
    """JSON shape of an order (DESIGN.md), with its lines when given."""
    out = {"id": o.id, "number": o.number, "customer_id": o.customer_id, "opportunity_id": o.opportunity_id,
           "quote_id": o.quote_id, "contract_id": o.contract_id, "owner": o.owner, "status": o.status,
           "payment_terms": o.payment_terms, "tax_rate": float(o.tax_rate), "subtotal": num(o.subtotal),
           "discount_total": num(o.discount_total), "tax": num(o.tax), "total": num(o.total),
           "max_discount": float(o.max_discount), "instance_id": o.instance_id, "round": o.round, "note": o.note,
           "submitted_at": iso(o.submitted_at), "confirmed_at": iso(o.confirmed_at), "created_at": iso(o.created_at)}
    if lines is not None:
        out["lines"] = [line_dict(ln) for ln in lines]
    return out


def round_dict(r: OrderRound) -> dict[str, Any]:
    """JSON shape of one approval round."""
    return {"round": r.round, "total": num(r.total), "submitted_by": r.submitted_by,
            "submitted_at": iso(r.submitted_at), "outcome": r.outcome, "reason": r.reason,
            "decided_at": iso(r.decided_at)}


def get_order(session: Session, viewer: Viewer, order_id: int, *, edit: bool = False) -> SalesOrder:
    """The order if the viewer may read (or edit) it."""
    order = session.get(SalesOrder, order_id) if isinstance(order_id, int) else None
    if order is None:
        raise NotFound(f"no order {order_id}")
    if not reads_all_sales(viewer):
        check_access(session, viewer, order, "order", edit=edit)
    elif edit:  # finance reads every order but changes only those in its own scope
        try:
            check_access(session, viewer, order, "order", edit=True)
        except NotFound:
            raise Forbidden(f"you may read order {order_id} but not change it") from None
    return order


def order_visible_clause(viewer: Viewer) -> Any:
    """SQL condition: the viewer reads the order (scope or visible customer; finance and admins: every order)."""
    return true() if reads_all_sales(viewer) else visible_clause(viewer, SalesOrder)


def lines_of_order(session: Session, order: SalesOrder) -> list[OrderLine]:
    """The order's lines in order."""
    return list(session.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)))


def rounds_of(session: Session, order: SalesOrder) -> list[OrderRound]:
    """The order's approval rounds, first first."""
    return list(session.scalars(select(OrderRound).where(OrderRound.order_id == order.id)
                                .order_by(OrderRound.round)))


def _terms(value: str | None) -> str:
    terms = value or "net30"
    if terms not in TERMS:
        raise InvalidData("unknown payment terms",
                          errors=[{"field": "payment_terms", "message": f"one of {', '.join(TERMS)}"}])
    return terms


def _set_lines(session: Session, order: SalesOrder, priced: list) -> None:
    order.tax_rate = tax_rate(session)
    t = totals(priced, order.tax_rate)
    order.subtotal, order.discount_total, order.tax, order.total = t.subtotal, t.discount_total, t.tax, t.total
    order.max_discount = t.max_discount
    session.execute(delete(OrderLine).where(OrderLine.order_id == order.id))
    session.add_all(OrderLine(order_id=order.id, product_id=ln.product_id, quantity=ln.quantity,
                              unit_price=ln.unit_price, discount=ln.discount, amount=ln.amount) for ln in priced)
    session.flush()


def _new_order(session: Session, viewer: Viewer, customer: Customer, opp: Opportunity | None, priced: list,
               terms: str, note: str | None, quote_id: int | None = None) -> SalesOrder:
    now = utcnow()
    order = SalesOrder(number=next_number(session, "order", company_date(now)), customer_id=customer.id,
                       opportunity_id=opp.id if opp else None, quote_id=quote_id,
                       owner=viewer.username if not viewer.is_admin else (customer.owner or viewer.username),
                       status="draft", payment_terms=terms, tax_rate=0, note=note, round=0, created_at=now,
                       updated_at=now)
    session.add(order)
    session.flush()
    _set_lines(session, order, priced)
    audit.record(session, "order", order.id, viewer.username, "create",
                 {"number": (None, order.number), "status": (None, "draft"), "total": (None, order.total)})
    return order


def create_order(session: Session, viewer: Viewer, data: dict[str, Any]) -> SalesOrder:
    """An order entered directly for a customer the viewer may edit (optionally for one of its opportunities)."""
    customer = live(get_customer(session, viewer, data["customer_id"], edit=True, field="customer_id"))
    opp = opportunity_of(session, customer, data.get("opportunity_id"))
    priced = price_lines(session, data["lines"])
    return _new_order(session, viewer, customer, opp, priced, _terms(data.get("payment_terms")), data.get("note"))


def order_from_quote(session: Session, viewer: Viewer, quote_id: int, data: dict[str, Any]) -> SalesOrder:
    """Turn a draft quote into an order, once (409 if it was already ordered, also by a concurrent request)."""
    quote = get_quote(session, viewer, quote_id, edit=True)
    customer = get_customer(session, viewer, quote.customer_id, edit=True)
    done = session.execute(update(Quote).where(Quote.id == quote.id, Quote.status == "draft")
                           .values(status="ordered").execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(f"quote {quote.number} was already turned into an order")
    session.refresh(quote)
    audit.record(session, "quote", quote.id, viewer.username, "ordered", {"status": ("draft", "ordered")})
    raw = [{"product_id": ln.product_id, "quantity": ln.quantity, "unit_price": ln.unit_price,
            "discount": ln.discount} for ln in lines_of(session, quote)]
    priced = price_lines(session, raw)
    opp = session.get(Opportunity, quote.opportunity_id) if quote.opportunity_id else None
    require_open(opp)
    return _new_order(session, viewer, customer, opp, priced, _terms(data.get("payment_terms")),
                      data.get("note", quote.note), quote.id)


def update_order(session: Session, viewer: Viewer, order_id: int, data: dict[str, Any]) -> SalesOrder:
    """Change lines, payment terms or note of a draft or rejected order (409 while pending or once decided)."""
    order = get_order(session, viewer, order_id, edit=True)
    order = session.get(SalesOrder, order.id, with_for_update=True, populate_existing=True)
    if order.status not in EDITABLE:
        raise Conflict(Message("order {number} is {status}; only draft or rejected orders change",
                               number=order.number, status=order.status),
                       errors=[{"field": "status", "message": order.status}])
    before = order.total
    if "lines" in data:
        _set_lines(session, order, price_lines(session, data["lines"]))
    fields = {k: v for k, v in data.items() if k in ("note", "payment_terms")}
    if "payment_terms" in fields:
        fields["payment_terms"] = _terms(fields["payment_terms"])
    changes = audit.apply_changes(order, fields)
    if order.total != before:
        changes["total"] = (before, order.total)
    if changes:
        audit.record(session, "order", order.id, viewer.username, "update", changes)
    session.flush()
    return order


def list_query(viewer: Viewer, filters: dict[str, Any]) -> Select:
    """Orders the viewer sees, filtered by customer, opportunity, status or owner."""
    query = select(SalesOrder).where(order_visible_clause(viewer))
    for name in ("customer_id", "opportunity_id", "status", "owner"):
        if filters.get(name) is not None:
            query = query.where(getattr(SalesOrder, name) == filters[name])
    return query.order_by(SalesOrder.id)


def check_submittable(session: Session, viewer: Viewer, order_id: int) -> SalesOrder:
    """The order, if the viewer may submit it now: they may edit its customer now (403 otherwise) and own the order
    or the customer (or manage either owner; an edit share is not enough, 403), and it is a draft (409 otherwise).
    Whoever owns the customer after a transfer submits the orders left behind; their old owner no longer does."""
    order = _locked(session, get_order(session, viewer, order_id, edit=True).id)  # submissions take turns
    customer = session.get(Customer, order.customer_id)
    if not (viewer.owns_scope(order.owner) or viewer.owns_scope(customer.owner)):  # a share is no title
        raise Forbidden(f"only the owner of order {order.number} or of its customer (or their manager) submits it")
    if order.status != "draft":
        raise Conflict(Message("order {number} is {status}; only a draft is submitted (a rejected order is "
                               "resubmitted from its revision task)", number=order.number, status=order.status))
    if order.opportunity_id is not None:
        require_open(session.get(Opportunity, order.opportunity_id))
    return order


def check_start(session: Session, username: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Start check of `sales_order_approval`: only a draft order starts it (422 naming order_id), whichever way it
    is started; its state changes after that are the flow's own, so the form does not pin a state."""
    order = session.get(SalesOrder, variables.get("order_id"))
    if order is not None and order.status != "draft":
        raise InvalidData(f"order {order.number} is {order.status}",
                          errors=[{"field": "order_id", "message": f"the order is {order.status}; only a draft "
                                                                    "order is submitted"}])
    return {}


def register_checks(checks: Any) -> None:
    """Plug the start check into the engine's start checks."""
    checks.register(PROCESS_KEY, check_start)


def flow_ended(session: Session, instance: Any, how: str, user: str | None) -> None:
    """The order's approval instance was withdrawn, cancelled, terminated or cancelled at an incident: the order it
    holds (pending, or rejected awaiting revision) goes back to draft, so its rep may edit and submit it again.
    Only the order this very instance submitted (`instance_id`) moves; an order in any other state stays.
    Audited as `withdraw` and sent as `order.withdrawn` (with `ending`, how the instance ended)."""
    order = session.scalars(select(SalesOrder).where(SalesOrder.instance_id == instance.id).with_for_update()
                            .execution_options(populate_existing=True)).one_or_none()
    if order is None or order.status not in ("pending", "rejected"):
        return
    old, order.status = order.status, "draft"
    if old == "pending":
        _close_round(session, order, "withdrawn", how)
    audit.record(session, "order", order.id, user, "withdraw", {"status": (old, "draft"), "ending": (None, how)})
    session.flush()
    event(session, "order.withdrawn", order, round=order.round, ending=how)


def register_end_hooks(hooks: Any) -> None:
    """Plug `flow_ended` into the engine's instance-ended hooks of `sales_order_approval`."""
    hooks.register(PROCESS_KEY, flow_ended)


# --- what the approval flow does (called by crm.operations inside the engine's step) ---

def event(session: Session, name: str, order: SalesOrder, **extra: Any) -> None:
    """Queue webhook event `name` about the order; it carries `customer_id` and `instance_id`, which the delivery
    policy checks against the webhook owner's scope."""
    from engine import webhooks
    webhooks.enqueue(session, name, {"order_id": order.id, "number": order.number, "customer_id": order.customer_id,
                                     "status": order.status, "total": num(order.total),
                                     "instance_id": order.instance_id, **extra})


def _locked(session: Session, order_id: int) -> SalesOrder:
    return session.scalars(select(SalesOrder).where(SalesOrder.id == order_id).with_for_update()
                           .execution_options(populate_existing=True)).one()


def outstanding_of(session: Session, customer_id: int) -> Decimal:
    """What the customer still owes on active contracts (receivables not yet paid)."""
    value = session.scalar(select(func.coalesce(func.sum(Contract.amount - Contract.paid_amount), 0))
                           .where(Contract.customer_id == customer_id, Contract.status == "active"))
    return Decimal(str(value)).quantize(CENT)


def credit_of(session: Session, order: SalesOrder) -> dict[str, Any]:
    """The customer's credit as finance sees it: limit, outstanding receivables, both plus this order (unless the
    order is already among them, confirmed, or never will be, cancelled)."""
    customer = session.get(Customer, order.customer_id)
    outstanding = outstanding_of(session, order.customer_id)
    after = outstanding + (Decimal(str(order.total)) if order.status in NOT_YET_OWED else Decimal(0))
    limit = customer.credit_limit
    return {"credit_limit": num(limit) if limit is not None else None, "outstanding": num(outstanding),
            "after_order": num(after), "within_limit": limit is None or after <= Decimal(str(limit))}


def mark_submitted(session: Session, order_id: int, user: str | None, instance_id: int | None) -> dict[str, Any]:
    """Start an approval round: draft/rejected -> pending (409 otherwise); returns what the flow routes on."""
    order = _locked(session, order_id)
    if order.status not in EDITABLE:
        raise Conflict(Message("order {number} is {status}", number=order.number, status=order.status))
    now = utcnow()
    old = order.status
    order.status, order.submitted_at, order.round = "pending", now, order.round + 1
    if instance_id is not None:
        order.instance_id = instance_id
    session.add(OrderRound(order_id=order.id, round=order.round, total=order.total, submitted_by=user,
                           submitted_at=now, outcome="pending"))
    session.flush()
    audit.record(session, "order", order.id, user, "submit", {"status": (old, "pending"), "round": (None, order.round)})
    event(session, "order.submitted", order, round=order.round)
    # routing figures only: the customer's name and credit are CRM data that instance variables must not copy
    # (a CC or a later reader of the instance may not read the customer); task_credit computes credit on read
    return {"order_id": order.id, "number": order.number, "customer_id": order.customer_id,
            "total": num(order.total), "max_discount": float(order.max_discount), "round": order.round,
            "sales_head": sales_head_for(session, user)}


SALES_DEPARTMENT = "sales"  # the department whose head approves every order (its name, any case)


def sales_head_for(session: Session, applicant: str | None) -> str | None:
    """Who approves an order as "the sales head": the head of the Sales department of the org chart (by name), or,
    when that head is the applicant, the head above them; without a Sales department (or head), the head of the
    applicant's own department, else their manager. None if nobody is found (the engine then escalates)."""
    from oa.models import Department
    from oa.org import OrgDirectory
    directory = OrgDirectory(session)
    dept = session.scalar(select(Department).where(func.lower(Department.name) == SALES_DEPARTMENT,
                                                   Department.active.is_(True)))
    head = dept.head if dept is not None else None
    if head is not None and head.active and head.username != applicant:
        return head.username
    return directory.dept_head_of(applicant) or directory.manager_of(applicant)


def business_key_for(process_key: str, variables: dict[str, Any], given: str | None) -> str | None:
    """The business key a start of `process_key` must carry: `order:<order_id>` for an order's approval (the
    given key if it matches, else 422 naming `business_key`); other flows keep the caller's."""
    order_id = variables.get("order_id") if process_key == PROCESS_KEY else None
    if not isinstance(order_id, int) or isinstance(order_id, bool):
        return given  # not an order flow, or no usable order_id: the start check names order_id
    expected = f"order:{order_id}"
    if given not in (None, expected):
        raise InvalidData(f"an order's approval carries the business key {expected}",
                          errors=[{"field": "business_key", "message": f"must be {expected} (or left out)"}])
    return expected


def task_credit(session: Session, process_key: str, variables: dict[str, Any]) -> dict[str, Any] | None:
    """The customer's credit as it stands now, for a task of an order's approval (None for other flows or
    when the order is gone): read when the task is read, so finance always decides on current figures."""
    order_id = variables.get("order_id") if process_key == PROCESS_KEY else None
    order = session.get(SalesOrder, order_id) if isinstance(order_id, int) and not isinstance(order_id, bool) \
        else None
    return credit_of(session, order) if order is not None else None


def _close_round(session: Session, order: SalesOrder, outcome: str, reason: str | None) -> None:
    session.execute(update(OrderRound).where(OrderRound.order_id == order.id, OrderRound.round == order.round)
                    .values(outcome=outcome, reason=reason, decided_at=utcnow())
                    .execution_options(synchronize_session=False))


def mark_rejected(session: Session, order_id: int, user: str | None, reason: str | None) -> SalesOrder:
    """pending -> rejected with the approver's reason; the rep may revise and resubmit."""
    order = _locked(session, order_id)
    if order.status != "pending":
        raise Conflict(Message("order {number} is {status}", number=order.number, status=order.status))
    order.status = "rejected"
    reason = visible_text(reason)[:4000] or None
    _close_round(session, order, "rejected", reason)
    audit.record(session, "order", order.id, user, "reject", {"status": ("pending", "rejected"),
                                                              "reason": (None, reason)})
    session.flush()
    event(session, "order.rejected", order, round=order.round, reason=reason)
    return order


def mark_cancelled(session: Session, order_id: int, user: str | None) -> SalesOrder:
    """The rep gave up a rejected order: -> cancelled."""
    order = _locked(session, order_id)
    if order.status not in EDITABLE:
        raise Conflict(Message("order {number} is {status}", number=order.number, status=order.status))
    old, order.status = order.status, "cancelled"
    audit.record(session, "order", order.id, user, "cancel", {"status": (old, "cancelled")})
    session.flush()
    event(session, "order.cancelled", order)
    return order


def plan_amounts(total: Decimal, terms: str, start: date) -> list[tuple[date, Decimal]]:
    """The instalments of `total` under `terms`: (due date, amount), the last taking the rounding rest."""
    parts, left = [], total
    instalments = TERMS[terms]
    for i, (percent, days) in enumerate(instalments):
        amount = left if i == len(instalments) - 1 else (total * percent / 100).quantize(CENT, ROUND_HALF_UP)
        parts.append((start + timedelta(days=days), amount))
        left -= amount
    return [(due, amount) for due, amount in parts if amount > 0]


def confirm(session: Session, order_id: int, user: str | None, now: datetime | None = None) -> SalesOrder:
    """pending -> confirmed: an active receivable contract for the total with plans from the payment terms, the
    opportunity (if any and open) won. Events order.approved and order.confirmed."""
    order = _locked(session, order_id)
    if order.status != "pending":
        raise Conflict(Message("order {number} is {status}", number=order.number, status=order.status))
    opp = session.scalars(select(Opportunity).where(Opportunity.id == order.opportunity_id).with_for_update()
                          .execution_options(populate_existing=True)).one_or_none()
    if opp is not None and opp.status != "open":  # won by another order meanwhile: no second contract on it
        raise Conflict(f"opportunity {opp.id} is already {opp.status}; order {order.number} is not confirmed")
    now = now or utcnow()
    order.status, order.confirmed_at = "confirmed", now
    _close_round(session, order, "approved", None)
    contract = Contract(customer_id=order.customer_id, opportunity_id=order.opportunity_id,
                        title=f"Order {order.number}", amount=order.total, paid_amount=Decimal(0), status="active",
                        owner=order.owner, signed_date=company_date(now), created_at=now)
    session.add(contract)
    session.flush()
    order.contract_id = contract.id
    audit.record(session, "contract", contract.id, user, "create",
                 {"title": (None, contract.title), "amount": (None, contract.amount), "status": (None, "active")})
    for due, amount in plan_amounts(Decimal(str(order.total)), order.payment_terms, company_date(now)):
        session.add(ReceivablePlan(contract_id=contract.id, due_date=due, amount=amount, paid_amount=Decimal(0),
                                   order_id=order.id, created_at=now))
    if opp is not None:  # won for what was ordered: the reports' won revenue is the order total
        changes = audit.apply_changes(opp, {"status": "won", "stage": "won", "probability": 100,
                                            "amount": Decimal(str(order.total)),
                                            "close_reason": f"order {order.number} confirmed", "closed_at": now})
        audit.record(session, "opportunity", opp.id, user, "won", changes)
    audit.record(session, "order", order.id, user, "confirm", {"status": ("pending", "confirmed"),
                                                               "contract_id": (None, contract.id)})
    session.flush()
    event(session, "order.approved", order, round=order.round)
    event(session, "order.confirmed", order, contract_id=contract.id)
    return order
