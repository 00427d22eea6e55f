"""Quotes (报价单): priced lines for a customer, optionally from an opportunity; numbered QT-YYYY-NNNN; a quote
turns into a sales order once (POST /quotes/{id}/order)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.orm import Session

from crm import audit
from crm.access import Viewer, can_edit_customer, can_read_customer, customer_visible_clause, get_customer
from crm.common import iso, num
from crm.models import Customer, Opportunity, Quote, QuoteLine
from crm.numbering import next_number
from crm.pricing import line_dict, price_lines, tax_rate, totals
from store.base import utcnow
from store.errors import Conflict, Forbidden, InvalidData, NotFound

STATUSES = ("draft", "ordered")


def quote_dict(q: Quote, lines: list[QuoteLine] | None = None) -> dict[str, Any]:
    """JSON shape of a quote (with its lines when given)."""
    out = {"id": q.id, "number": q.number, "customer_id": q.customer_id, "opportunity_id": q.opportunity_id,
           "owner": q.owner, "status": q.status, "tax_rate": float(q.tax_rate), "subtotal": num(q.subtotal),
           "discount_total": num(q.discount_total), "tax": num(q.tax), "total": num(q.total), "note": q.note,
           "created_at": iso(q.created_at)}
    if lines is not None:
        out["lines"] = [line_dict(ln) for ln in lines]
    return out


def visible_clause(viewer: Viewer, model: Any) -> Any:
    """SQL condition: the quote's/order's owner is in scope or its customer is visible (as contracts)."""
    visible = select(Customer.id).where(customer_visible_clause(viewer))
    return or_(viewer.owner_clause(model.owner), model.customer_id.in_(visible))


def check_access(session: Session, viewer: Viewer, row: Any, label: str, *, edit: bool) -> None:
    """NotFound if the viewer may not read the quote/order `row`, Forbidden if they may read but not edit (a
    write needs edit access to its customer at the time of the write, whoever owns the row)."""
    customer = session.get(Customer, row.customer_id)
    readable = viewer.owns_scope(row.owner) or (customer is not None and customer.owner is not None
                                                and can_read_customer(session, viewer, customer))
    if not readable:
        raise NotFound(f"no {label} {row.id}")
    # a write needs edit access to the customer as it is now: owning the quote/order is no licence once the
    # customer was transferred, handed over or released (an administrator may always)
    if edit and (customer is None or not can_edit_customer(session, viewer, customer)):
        raise Forbidden(f"you may read {label} {row.id} but not change it (no edit access to its customer)")


def get_quote(session: Session, viewer: Viewer, quote_id: int, *, edit: bool = False) -> Quote:
    """The quote if the viewer may read (or edit) it."""
    quote = session.get(Quote, quote_id)
    if quote is None:
        raise NotFound(f"no quote {quote_id}")
    check_access(session, viewer, quote, "quote", edit=edit)
    return quote


def lines_of(session: Session, quote: Quote) -> list[QuoteLine]:
    """The quote's lines in order."""
    return list(session.scalars(select(QuoteLine).where(QuoteLine.quote_id == quote.id).order_by(QuoteLine.id)))


def live(customer: Customer) -> Customer:
    """The customer, unless it was merged into another (422 naming customer_id, pointing at the one kept)."""
    if customer.merged_into_id is not None:
        raise InvalidData(f"customer {customer.id} was merged into {customer.merged_into_id}",
                          errors=[{"field": "customer_id", "message": f"merged into {customer.merged_into_id}"}])
    return customer


def opportunity_of(session: Session, customer: Customer, opp_id: int | None) -> Opportunity | None:
    """The opportunity named in a body, which must belong to the customer (422 naming opportunity_id)."""
    if opp_id is None:
        return None
    opp = session.get(Opportunity, opp_id)
    if opp is None or opp.customer_id != customer.id:
        raise InvalidData("unknown opportunity for this customer",
                          errors=[{"field": "opportunity_id", "message": "not an opportunity of this customer"}])
    require_open(opp)
    return opp


def require_open(opp: Opportunity | None) -> None:
    """422 naming `opportunity_id` unless the opportunity is open (a won or lost deal takes no new quote or order)."""
    if opp is not None and opp.status != "open":
        raise InvalidData(f"opportunity {opp.id} is {opp.status}",
                          errors=[{"field": "opportunity_id", "message": f"the opportunity is {opp.status}; "
                                                                        "only an open opportunity takes an order"}])


def _set_lines(session: Session, quote: Quote, raw: list[dict[str, Any]]) -> None:
    priced = price_lines(session, raw)
    quote.tax_rate = tax_rate(session)
    t = totals(priced, quote.tax_rate)
    quote.subtotal, quote.discount_total, quote.tax, quote.total = t.subtotal, t.discount_total, t.tax, t.total
    session.execute(delete(QuoteLine).where(QuoteLine.quote_id == quote.id))
    session.add_all(QuoteLine(quote_id=quote.id, product_id=ln.product_id, quantity=ln.quantity,
                              unit_price=ln.unit_price, discount=ln.discount, amount=ln.amount) for ln in priced)
    session.flush()


def create_quote(session: Session, viewer: Viewer, data: dict[str, Any]) -> Quote:
    """A quote for a customer the viewer may edit; `opportunity_id` (of that customer) instead names the customer
    through the opportunity."""
    customer_id = data.get("customer_id")
    if customer_id is None and data.get("opportunity_id") is not None:
        opp = session.get(Opportunity, data["opportunity_id"])
        customer_id = opp.customer_id if opp is not None else None
        if customer_id is None:
            raise InvalidData("unknown opportunity", errors=[{"field": "opportunity_id", "message": "unknown"}])
    if customer_id is None:
        raise InvalidData("customer_id or opportunity_id is required",
                          errors=[{"field": "customer_id", "message": "required (or opportunity_id)"}])
    customer = live(get_customer(session, viewer, customer_id, edit=True, field="customer_id"))
    opp = opportunity_of(session, customer, data.get("opportunity_id"))
    quote = Quote(number=next_number(session, "quote"), customer_id=customer.id,
                  opportunity_id=opp.id if opp else None, owner=viewer.username if not viewer.is_admin
                  else (customer.owner or viewer.username), status="draft", tax_rate=0, note=data.get("note"),
                  created_at=utcnow())
    session.add(quote)
    session.flush()
    _set_lines(session, quote, data["lines"])
    audit.record(session, "quote", quote.id, viewer.username, "create",
                 {"number": (None, quote.number), "total": (None, quote.total)})
    return quote


def update_quote(session: Session, viewer: Viewer, quote_id: int, data: dict[str, Any]) -> Quote:
    """Change the lines or note of a draft quote (409 once it is ordered)."""
    quote = get_quote(session, viewer, quote_id, edit=True)
    if quote.status != "draft":
        raise Conflict(f"quote {quote.number} is {quote.status}")
    before = quote.total
    if "lines" in data:
        _set_lines(session, quote, data["lines"])
    changes = audit.apply_changes(quote, {k: v for k, v in data.items() if k == "note"})
    if quote.total != before:
        changes["total"] = (before, quote.total)
    if changes:
        audit.record(session, "quote", quote.id, viewer.username, "update", changes)
    session.flush()
    return quote


def list_query(viewer: Viewer, filters: dict[str, Any]) -> Select:
    """Quotes the viewer sees."""
    query = select(Quote).where(visible_clause(viewer, Quote))
    for name in ("customer_id", "opportunity_id", "status", "owner"):
        if filters.get(name) is not None:
            query = query.where(getattr(Quote, name) == filters[name])
    return query.order_by(Quote.id)
