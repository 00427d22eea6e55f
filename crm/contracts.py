"""Contracts, receivable plans (回款计划) and payments: a payment is allocated to the plans (oldest due first
unless one is named) and never exceeds what is outstanding, kept with conditional UPDATEs so two concurrent
payments cannot overpay; every payment earns loyalty points."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select, true, update
from sqlalchemy.orm import Session

from crm import audit
from crm.access import (
    Viewer,
    can_edit_customer,
    can_read_customer,
    customer_visible_clause,
    get_customer,
    reads_all_contracts,
    records_any_payment,
)
from crm.common import iso, money, num
from crm.customers import POINTS_PER_AMOUNT, add_points
from crm.models import Contract, Customer, Opportunity, Payment, ReceivablePlan, SalesOrder
from store.base import utcnow
from store.clock import company_date
from store.errors import Conflict, Forbidden, InvalidData, NotFound
from store.messages import Message

STATUSES = ("draft", "active", "closed")


def contract_dict(c: Contract) -> dict[str, Any]:
    """JSON shape of a contract with what is still outstanding."""
    return {"id": c.id, "customer_id": c.customer_id, "opportunity_id": c.opportunity_id, "title": c.title,
            "amount": num(c.amount), "paid_amount": num(c.paid_amount),
            "outstanding": num(Decimal(str(c.amount)) - Decimal(str(c.paid_amount))), "status": c.status,
            "owner": c.owner, "signed_date": iso(c.signed_date), "created_at": iso(c.created_at)}


def plan_dict(p: ReceivablePlan, today: date | None = None) -> dict[str, Any]:
    """JSON shape of a receivable plan. An instalment of a confirmed order names the order and its payment terms
    (`order_id`, `order_number`, `payment_terms`); its `note` says the same in English ("SO-2026-0003 (prepaid)"),
    as it always did."""
    today = today or company_date()
    outstanding = Decimal(str(p.amount)) - Decimal(str(p.paid_amount))
    order = p.order
    note = p.note if p.note or order is None else plan_order_note(order.number, order.payment_terms)
    return {"id": p.id, "contract_id": p.contract_id, "due_date": iso(p.due_date), "amount": num(p.amount),
            "paid_amount": num(p.paid_amount), "outstanding": num(outstanding), "note": note,
            "order_id": p.order_id, "order_number": order.number if order else None,
            "payment_terms": order.payment_terms if order else None,
            "overdue": outstanding > 0 and p.due_date < today}


def plan_order_note(number: str, terms: str) -> str:
    """The English note of an order's instalment, as the API says it: "SO-2026-0003 (prepaid)"."""
    return f"{number} ({terms})"


def payment_dict(p: Payment) -> dict[str, Any]:
    """JSON shape of a payment."""
    return {"id": p.id, "contract_id": p.contract_id, "plan_id": p.plan_id, "amount": num(p.amount),
            "paid_on": iso(p.paid_on), "recorded_by": p.recorded_by, "created_at": iso(p.created_at)}


def contract_visible_clause(viewer: Viewer) -> Any:
    """SQL condition: the contract's owner is in scope or its customer is visible (finance: every contract)."""
    if reads_all_contracts(viewer):
        return true()
    visible = select(Customer.id).where(customer_visible_clause(viewer))
    return or_(viewer.owner_clause(Contract.owner), Contract.customer_id.in_(visible))


def get_contract(session: Session, viewer: Viewer, contract_id: int, *, edit: bool = False,
                 field: str | None = None) -> Contract:
    """The contract if the viewer may read (or edit) it. Its recorded owner keeps reading it; changing it needs edit
    access to the customer now, so after a transfer or hand-over the old owner gets 403."""
    contract = session.get(Contract, contract_id)
    customer = session.get(Customer, contract.customer_id) if contract else None
    readable = contract is not None and (reads_all_contracts(viewer) or viewer.owns_scope(contract.owner) or (
        customer is not None and customer.owner is not None and can_read_customer(session, viewer, customer)))
    if not readable:
        if field:
            raise InvalidData(f"no contract {contract_id}", errors=[{"field": field, "message": "unknown contract"}])
        raise NotFound(f"no contract {contract_id}")
    if edit and not can_edit_customer(session, viewer, customer):  # the customer's holder now, not the old owner
        raise Forbidden(f"you may read contract {contract_id} but not change it")
    return contract


def _locked(session: Session, contract_id: int) -> Contract:
    """The contract row, locked for this transaction (PostgreSQL row lock; on SQLite the write transaction's
    lock, see engine.runtime.begin_write, already serialises writers) and read afresh."""
    return session.scalars(select(Contract).where(Contract.id == contract_id).with_for_update()
                           .execution_options(populate_existing=True)).one()


def create_contract(session: Session, viewer: Viewer, data: dict[str, Any]) -> Contract:
    """Create a contract for a customer the viewer may edit (optionally tied to one of its opportunities)."""
    customer = get_customer(session, viewer, data["customer_id"], edit=True, field="customer_id")
    opp_id = data.get("opportunity_id")
    if opp_id is not None:
        opp = session.get(Opportunity, opp_id)
        if opp is None or opp.customer_id != customer.id:
            raise InvalidData("unknown opportunity for this customer",
                              errors=[{"field": "opportunity_id", "message": "not an opportunity of this customer"}])
    status = data.get("status") or "draft"
    contract = Contract(customer_id=customer.id, opportunity_id=opp_id, title=data["title"].strip(),
                        amount=money(data["amount"], allow_zero=False), paid_amount=Decimal("0"), status=status,
                        owner=customer.owner or viewer.username, signed_date=data.get("signed_date"),
                        created_at=utcnow())
    session.add(contract)
    session.flush()
    audit.record(session, "contract", contract.id, viewer.username, "create",
                 {"title": (None, contract.title), "amount": (None, contract.amount), "status": (None, status)})
    return contract


def update_contract(session: Session, viewer: Viewer, contract_id: int, data: dict[str, Any]) -> Contract:
    """Change title, amount, status or signed date (amount never below what was paid or planned). On a receivable
    contract (see holds_receivables) only finance or an administrator changes amount and status (403 otherwise), so
    a rep cannot make a debt disappear; title and signed date stay with whoever may edit the customer."""
    data = {k: v for k, v in data.items() if k in ("title", "amount", "status", "signed_date")}
    contract = get_contract(session, viewer, contract_id)
    money_fields = [k for k in ("amount", "status") if k in data]
    if money_fields and holds_receivables(session, contract):
        if not records_any_payment(viewer):
            raise Forbidden(f"contract {contract_id} is a receivable (from an order, with plans or payments): only "
                            f"finance changes its {' and '.join(money_fields)}")
        if len(money_fields) < len(data):  # finance changes the money, the title and date stay with the editors
            get_contract(session, viewer, contract_id, edit=True)
    else:
        get_contract(session, viewer, contract_id, edit=True)
    if "amount" in data:
        data["amount"] = money(data["amount"], allow_zero=False)
        planned = session.scalar(select(func.coalesce(func.sum(ReceivablePlan.amount), 0))
                                 .where(ReceivablePlan.contract_id == contract.id))
        if data["amount"] < Decimal(str(contract.paid_amount)) or data["amount"] < Decimal(str(planned)):
            raise InvalidData(Message("amount is below what is paid or planned"),
                              errors=[{"field": "amount", "message": Message("below the paid or planned amount")}])
    changes = audit.apply_changes(contract, data)
    if changes:
        audit.record(session, "contract", contract.id, viewer.username, "update", changes)
    session.flush()
    return contract


def holds_receivables(session: Session, contract: Contract) -> bool:
    """True if the contract is money owed the company: created by a sales order, or with receivable plans or
    payments. Its amount and status then change only through finance (or the order flow)."""
    return any(session.scalar(select(func.count()).select_from(model).where(column == contract.id)) or 0
               for model, column in ((SalesOrder, SalesOrder.contract_id), (ReceivablePlan, ReceivablePlan.contract_id),
                                     (Payment, Payment.contract_id)))


def list_query(viewer: Viewer, filters: dict[str, Any]) -> Select:
    """Contracts the viewer sees."""
    query = select(Contract).where(contract_visible_clause(viewer))
    for name in ("customer_id", "status", "owner", "opportunity_id"):
        if filters.get(name) is not None:
            query = query.where(getattr(Contract, name) == filters[name])
    return query.order_by(Contract.id)


def add_plan(session: Session, viewer: Viewer, data: dict[str, Any]) -> ReceivablePlan:
    """Add a receivable plan; all plans of a contract together may not exceed its amount."""
    get_contract(session, viewer, data["contract_id"], edit=True, field="contract_id")
    contract = _locked(session, data["contract_id"])  # plans of one contract are added in turn: never over
    amount = money(data["amount"], allow_zero=False)
    planned = Decimal(str(session.scalar(select(func.coalesce(func.sum(ReceivablePlan.amount), 0))
                                         .where(ReceivablePlan.contract_id == contract.id))))
    if planned + amount > Decimal(str(contract.amount)):
        left = Decimal(str(contract.amount)) - planned
        raise InvalidData(Message("plans would exceed the contract amount ({left} left to plan)", left=num(left)),
                          errors=[{"field": "amount",
                                   "message": Message("at most {left} left to plan", left=num(left))}])
    plan = ReceivablePlan(contract_id=contract.id, due_date=data["due_date"], amount=amount,
                          paid_amount=Decimal("0"), note=data.get("note"), created_at=utcnow())
    session.add(plan)
    session.flush()
    audit.record(session, "receivable_plan", plan.id, viewer.username, "create",
                 {"amount": (None, amount), "due_date": (None, plan.due_date)})
    return plan


def plans_query(viewer: Viewer, filters: dict[str, Any], today: date) -> Select:
    """Receivable plans of contracts the viewer sees; `overdue` keeps unpaid plans of active contracts past their
    date (a draft or closed contract owes nothing yet / any more)."""
    query = select(ReceivablePlan)
    if not viewer.is_admin:  # an administrator sees every contract: no set of visible ones to build
        query = query.where(ReceivablePlan.contract_id.in_(select(Contract.id).where(contract_visible_clause(viewer))))
    if filters.get("contract_id") is not None:
        query = query.where(ReceivablePlan.contract_id == filters["contract_id"])
    if filters.get("overdue"):
        active = select(Contract.id).where(Contract.status == "active")
        query = query.where(ReceivablePlan.due_date < today, ReceivablePlan.paid_amount < ReceivablePlan.amount,
                            ReceivablePlan.contract_id.in_(active))
    return query.order_by(ReceivablePlan.due_date, ReceivablePlan.id)


def _too_much(what: str) -> InvalidData:
    return InvalidData(f"the payment exceeds what is outstanding on the {what}",
                       errors=[{"field": "amount", "message": f"exceeds the {what}'s outstanding amount"}])


def allocate(amount: Decimal, plans: list[ReceivablePlan]) -> list[tuple[ReceivablePlan, Decimal]]:
    """Split `amount` over `plans` in the order given, each taking up to its outstanding amount; what is left
    over (beyond every plan) is unplanned and not returned."""
    parts, left = [], amount
    for plan in plans:
        open_ = Decimal(str(plan.amount)) - Decimal(str(plan.paid_amount))
        if left <= 0:
            break
        if open_ > 0:
            part = min(open_, left)
            parts.append((plan, part))
            left -= part
    return parts


def record_payment(session: Session, viewer: Viewer, contract_id: int, data: dict[str, Any]) -> Payment:
    """Record money received and allocate it to the contract's plans: the named plan, else the plans in due-date
    order (oldest first); money beyond every plan stays unplanned. 422 naming `amount` if it exceeds what is
    outstanding on the contract (or the named plan). Conditional UPDATEs keep concurrent payments from
    overpaying. The customer earns 1 loyalty point per 100 paid. Only finance (or an administrator; an integrator
    key whose account is in the finance group) records payments: anyone else who may read the contract gets 403,
    so a rep cannot wipe the balance finance checks credit against."""
    get_contract(session, viewer, contract_id)
    if not records_any_payment(viewer):
        raise Forbidden(f"only finance records payments on contract {contract_id}")
    # payments on one contract take turns, so each allocates from what the one before it left; the conditional
    # UPDATEs below stay as the safety net
    contract = _locked(session, contract_id)
    if contract.status != "active":
        raise Conflict(f"contract {contract_id} is {contract.status}; only active contracts take payments")
    amount = money(data["amount"], allow_zero=False)
    if amount > Decimal(str(contract.amount)) - Decimal(str(contract.paid_amount)):
        raise _too_much("contract")
    plan_id = data.get("plan_id")
    if plan_id is not None:
        plan = session.get(ReceivablePlan, plan_id, populate_existing=True)
        if plan is None or plan.contract_id != contract.id:
            raise InvalidData("unknown plan for this contract",
                              errors=[{"field": "plan_id", "message": "not a plan of this contract"}])
        if amount > Decimal(str(plan.amount)) - Decimal(str(plan.paid_amount)):
            raise _too_much("plan")
        parts = [(plan, amount)]
    else:
        parts = allocate(amount, plans_of(session, contract))
    for plan, part in parts:
        done = session.execute(update(ReceivablePlan).where(
            ReceivablePlan.id == plan.id, ReceivablePlan.paid_amount + part <= ReceivablePlan.amount)
            .values(paid_amount=ReceivablePlan.paid_amount + part).execution_options(synchronize_session=False))
        if done.rowcount != 1:  # another payment took it first
            raise Conflict(Message("the plan changed while paying; try again"),
                           errors=[{"field": "amount",
                                    "message": Message("someone paid this instalment at the same time; try again")}])
    done = session.execute(update(Contract).where(Contract.id == contract.id,
                                                  Contract.paid_amount + amount <= Contract.amount)
                           .values(paid_amount=Contract.paid_amount + amount)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise _too_much("contract")
    for plan, _part in parts:
        session.refresh(plan)
    single = parts[0][0].id if len(parts) == 1 else None
    payment = Payment(contract_id=contract.id, plan_id=plan_id or single, amount=amount,
                      paid_on=data.get("paid_on") or company_date(), recorded_by=viewer.username,
                      created_at=utcnow())
    session.add(payment)
    session.flush()
    session.refresh(contract)
    audit.record(session, "contract", contract.id, viewer.username, "payment",
                 {"paid_amount": (Decimal(str(contract.paid_amount)) - amount, contract.paid_amount)})
    for plan, part in parts:
        audit.record(session, "receivable_plan", plan.id, viewer.username, "payment",
                     {"paid_amount": (Decimal(str(plan.paid_amount)) - part, plan.paid_amount)})
    points = int(amount // POINTS_PER_AMOUNT)
    if points > 0:
        add_points(session, contract.customer_id, points, f"payment #{payment.id}", viewer.username, payment.id)
    return payment


def payments_of(session: Session, contract: Contract) -> list[Payment]:
    """Payments of a contract, oldest first."""
    return list(session.scalars(select(Payment).where(Payment.contract_id == contract.id).order_by(Payment.id)))


def plans_of(session: Session, contract: Contract) -> list[ReceivablePlan]:
    """Receivable plans of a contract by due date (as the database holds them now)."""
    return list(session.scalars(select(ReceivablePlan).where(ReceivablePlan.contract_id == contract.id)
                                .order_by(ReceivablePlan.due_date, ReceivablePlan.id)
                                .execution_options(populate_existing=True)))
