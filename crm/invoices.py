"""Invoices against confirmed orders (numbered INV-YYYY-NNNN; together never above the order total), and the
customer's sales summary: orders, invoices, payments and the outstanding balance."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crm import audit
from crm.access import Viewer, get_customer, reads_all_sales
from crm.common import CENT, iso, money, num
from crm.models import Invoice, Payment, SalesOrder
from crm.numbering import next_number
from crm.orders import event, order_dict, order_visible_clause, outstanding_of
from store.base import utcnow
from store.errors import Conflict, InvalidData, NotFound


def invoice_dict(i: Invoice) -> dict[str, Any]:
    """JSON shape of an invoice (DESIGN.md)."""
    return {"id": i.id, "order_id": i.order_id, "customer_id": i.customer_id, "number": i.number,
            "amount": num(i.amount), "tax": num(i.tax), "issued_on": iso(i.issued_on), "issued_by": i.issued_by}


def invoiced_of(session: Session, order_id: int) -> Decimal:
    """The sum of the order's invoices."""
    return Decimal(str(session.scalar(select(func.coalesce(func.sum(Invoice.amount), 0))
                                      .where(Invoice.order_id == order_id)))).quantize(CENT)


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
        raise InvalidData("the invoice exceeds what is left to invoice",
                          errors=[{"field": "amount", "message": f"at most {num(left)} left to invoice"}])
    tax = (Decimal(str(order.tax)) * value / total).quantize(CENT, ROUND_HALF_UP) if total else Decimal(0)
    today = utcnow().date()
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
