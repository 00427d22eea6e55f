"""Invoices against confirmed orders (numbered INV-YYYY-NNNN; together never above the order total), and the
customer's sales summary: orders, invoices, payments and the outstanding balance."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crm import audit
from crm.access import Viewer, get_customer, reads_all_sales
from crm.common import CENT, iso, money, num
from crm.models import Invoice, Payment, SalesOrder
from crm.numbering import next_number
from crm.orders import PROCESS_KEY, event, order_dict, order_visible_clause, outstanding_of
from store.base import utcnow
from store.clock import company_date
from store.errors import Conflict, InvalidData, NotFound
from store.messages import Message

ISSUE_AHEAD_DAYS = 31  # how far ahead of today an invoice may be dated


def invoice_dict(i: Invoice) -> dict[str, Any]:
    """JSON shape of an invoice (DESIGN.md)."""
    return {"id": i.id, "order_id": i.order_id, "customer_id": i.customer_id, "number": i.number,
            "amount": num(i.amount), "tax": num(i.tax), "issued_on": iso(i.issued_on), "issued_by": i.issued_by}


def invoiced_of(session: Session, order_id: int) -> Decimal:
    """The sum of the order's invoices."""
    return Decimal(str(session.scalar(select(func.coalesce(func.sum(Invoice.amount), 0))
                                      .where(Invoice.order_id == order_id)))).quantize(CENT)


def left_to_invoice(session: Session, order: SalesOrder) -> Decimal:
    """What of the order's total no invoice covers yet."""
    return Decimal(str(order.total)).quantize(CENT) - invoiced_of(session, order.id)


def invoices_of(session: Session, order_id: int) -> list[Invoice]:
    """The order's invoices, oldest first."""
    return list(session.scalars(select(Invoice).where(Invoice.order_id == order_id).order_by(Invoice.id)))


def issue_invoice(session: Session, order_id: int, user: str | None, issued_on: date | None = None,
                  amount: Any = None) -> Invoice:
    """Invoice a confirmed order: `amount` (default: what is not invoiced yet) with its share of the order's
    tax; 409 unless confirmed, 422 naming `amount` beyond what is left to invoice. Event invoice.issued."""
    order = session.scalars(select(SalesOrder).where(SalesOrder.id == order_id).with_for_update()
                            .execution_options(populate_existing=True)).one_or_none()
    if order is None:
        raise NotFound(f"no order {order_id}")
    if order.status != "confirmed":
        raise Conflict(f"order {order.number} is {order.status}; only confirmed orders are invoiced")
    total = Decimal(str(order.total))
    left = total - invoiced_of(session, order.id)
    value = left if amount in (None, "") else money(amount, allow_zero=False)
    if value <= 0 or value > left:
        raise InvalidData(Message("the invoice exceeds what is left to invoice"),
                          errors=[{"field": "amount",
                                   "message": Message("at most {left} left to invoice", left=num(left))}])
    tax = (Decimal(str(order.tax)) * value / total).quantize(CENT, ROUND_HALF_UP) if total else Decimal(0)
    today = company_date()
    check_issued_on(order, issued_on, today)
    invoice = Invoice(number=next_number(session, "invoice", today), order_id=order.id,
                      customer_id=order.customer_id, amount=value, tax=tax, issued_on=issued_on or today,
                      issued_by=user, created_at=utcnow())
    session.add(invoice)
    session.flush()
    audit.record(session, "invoice", invoice.id, user, "issue",
                 {"number": (None, invoice.number), "amount": (None, value)})
    audit.record(session, "order", order.id, user, "invoice", {"invoice": (None, invoice.number)})
    event(session, "invoice.issued", order, invoice_id=invoice.id, invoice_number=invoice.number,
          amount=num(value), tax=num(tax))
    return invoice


def check_issued_on(order: SalesOrder, issued_on: date | None, today: date) -> None:
    """An invoice is dated from the order's confirmation (or creation) day to 31 days ahead of today in the
    company time zone (store.clock); 422 naming `issued_on` otherwise."""
    if issued_on is None:
        return
    earliest = (order.confirmed_at or order.created_at).date()
    latest = today + timedelta(days=ISSUE_AHEAD_DAYS)
    if not earliest <= issued_on <= latest:
        raise InvalidData(f"issued_on must be between {earliest} and {latest}",
                          errors=[{"field": "issued_on", "message": f"between {earliest} and {latest}"}])


def check_invoice_date(session: Session, username: str, variables: dict[str, Any], submitted: dict[str, Any]) -> None:
    """Completion check of "Issue the invoice": the date lies between the order's confirmation and a month ahead
    (422 naming `issued_on`), so a wrong date is refused on the task, not an incident in the next step."""
    order = session.get(SalesOrder, variables.get("order_id"))
    raw = submitted.get("issued_on")
    if order is None or not isinstance(raw, str):
        return  # the step itself reports a missing order; the form requires the date
    try:
        issued_on = date.fromisoformat(raw)
    except ValueError:
        raise InvalidData("issued_on is not a date", errors=[{"field": "issued_on", "message": "not a date"}]) \
            from None
    check_issued_on(order, issued_on, company_date())


def register_checks(checks: Any) -> None:
    """Plug the invoice task's date check into the engine's completion checks."""
    checks.register_completion(PROCESS_KEY, "invoice_request", check_invoice_date)


def get_invoice(session: Session, viewer: Viewer, invoice_id: int) -> Invoice:
    """The invoice if the viewer may read its order."""
    from crm.orders import get_order
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(f"no invoice {invoice_id}")
    try:
        get_order(session, viewer, invoice.order_id)
    except NotFound:
        raise NotFound(f"no invoice {invoice_id}") from None
    return invoice


def list_query(viewer: Viewer, filters: dict[str, Any]) -> Select:
    """Invoices of orders the viewer sees."""
    query = select(Invoice)
    if not reads_all_sales(viewer):
        query = query.where(Invoice.order_id.in_(select(SalesOrder.id).where(order_visible_clause(viewer))))
    for name in ("order_id", "customer_id"):
        if filters.get(name) is not None:
            query = query.where(getattr(Invoice, name) == filters[name])
    return query.order_by(Invoice.id)


def balance_of(session: Session, customer: Any) -> dict[str, Any]:
    """The customer's credit limit, outstanding receivables and how many orders and invoices it has (the lists
    are in sales_summary)."""
    return {"credit_limit": num(customer.credit_limit) if customer.credit_limit is not None else None,
            "outstanding": num(outstanding_of(session, customer.id)),
            "orders": session.scalar(select(func.count()).select_from(SalesOrder)
                                     .where(SalesOrder.customer_id == customer.id)) or 0,
            "invoices": session.scalar(select(func.count()).select_from(Invoice)
                                       .where(Invoice.customer_id == customer.id)) or 0}


def sales_summary(session: Session, viewer: Viewer, customer_id: int) -> dict[str, Any]:
    """A customer's orders, invoices, payments (on its contracts), credit limit and outstanding balance."""
    from crm.contracts import contract_visible_clause, payment_dict
    from crm.models import Contract, Customer
    customer = session.get(Customer, customer_id) if reads_all_sales(viewer) else None
    if customer is None:  # finance reads every customer's balance; others need read access to the customer
        customer = get_customer(session, viewer, customer_id)
    orders = session.scalars(select(SalesOrder).where(SalesOrder.customer_id == customer.id,
                                                      order_visible_clause(viewer)).order_by(SalesOrder.id)
                             .limit(500))
    invoices = session.scalars(list_query(viewer, {"customer_id": customer.id}).limit(500))
    contracts = select(Contract.id).where(Contract.customer_id == customer.id, contract_visible_clause(viewer))
    payments = session.scalars(select(Payment).where(Payment.contract_id.in_(contracts)).order_by(Payment.id)
                               .limit(500))
    return {"customer_id": customer.id, "orders": [order_dict(o) for o in orders],
            "invoices": [invoice_dict(i) for i in invoices], "payments": [payment_dict(p) for p in payments],
            "credit_limit": num(customer.credit_limit) if customer.credit_limit is not None else None,
            "outstanding": num(outstanding_of(session, customer.id))}
