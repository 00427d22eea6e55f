"""Pricing of quote and order lines: quantity x unit price less a percent discount, a tax rate on the net, all in
Decimal rounded half-up to cents (never floats)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from crm.common import CENT
from crm.models import Product
from crm.settings import get_setting
from store.errors import InvalidData

MAX_LINES = 200
MAX_QUANTITY = Decimal("1000000000")
MAX_UNIT_PRICE = Decimal("1000000000")
MAX_TOTAL = Decimal("1e12")


@dataclass
class Line:
    """A priced line: product, quantity, unit price, discount (percent) and its gross, discount and net."""

    product_id: int
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    gross: Decimal
    discount_amount: Decimal
    amount: Decimal
    effective_discount: Decimal = Decimal(0)  # percent below the product's list price, all reductions counted


@dataclass
class Totals:
    """What a document adds up to."""

    subtotal: Decimal
    discount_total: Decimal
    tax: Decimal
    total: Decimal
    max_discount: Decimal


def _bad(field: str, message: str) -> InvalidData:
    return InvalidData(f"{field}: {message}", errors=[{"field": field, "message": message}])


def _decimal(value: Any, field: str, low: Decimal, high: Decimal, *, places: str = "0.01",
             low_inclusive: bool = True) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise _bad(field, "not a number")
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _bad(field, "not a number") from None
    if not number.is_finite() or number > high:
        raise _bad(field, f"must be {'at least' if low_inclusive else 'above'} {low} and at most {high}")
    number = number.quantize(Decimal(places), rounding=ROUND_HALF_UP)  # checked as stored: 0.0004 is 0.000
    if number < low or (number == low and not low_inclusive):
        raise _bad(field, f"must be {'at least' if low_inclusive else 'above'} {low} after rounding to {places}"
                          f" and at most {high}")
    return number


def price_lines(session: Session, lines: list[dict[str, Any]], *, field: str = "lines") -> list[Line]:
    """Check and price the lines (unit price defaults to the product's list price); 422 naming `lines[i].x`.
    Inactive products are refused; a quantity or unit price that rounds to zero (or below) is refused, and the
    line amounts are computed from the rounded values (what is stored)."""
    if not lines:
        raise _bad(field, "at least one line")
    if len(lines) > MAX_LINES:
        raise _bad(field, f"at most {MAX_LINES} lines")
    priced = []
    for i, raw in enumerate(lines):
        at = f"{field}[{i}]"
        product = session.get(Product, raw["product_id"])
        if product is None:
            raise _bad(f"{at}.product_id", "unknown product")
        if not product.active:
            raise _bad(f"{at}.product_id", "the product is inactive")
        quantity = _decimal(raw["quantity"], f"{at}.quantity", Decimal(0), MAX_QUANTITY, places="0.001",
                            low_inclusive=False)
        unit = raw.get("unit_price")
        unit_price = _decimal(product.list_price if unit is None else unit, f"{at}.unit_price", Decimal(0),
                              MAX_UNIT_PRICE, low_inclusive=False)
        discount = _decimal(raw.get("discount") or 0, f"{at}.discount", Decimal(0), Decimal(100))
        gross = (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)
        off = (gross * discount / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        if gross - off <= 0:  # nothing to sell: a free line would confirm into a contract for nothing
            raise _bad(f"{at}.discount" if discount > 0 else f"{at}.quantity", "the line amount rounds to 0.00")
        effective = effective_discount(unit_price, discount, Decimal(str(product.list_price)))
        priced.append(Line(product.id, quantity, unit_price, discount, gross, off, gross - off, effective))
    return priced


def effective_discount(unit_price: Decimal, discount: Decimal, list_price: Decimal) -> Decimal:
    """How far below the list price a line sells, in percent: 1 - unit_price x (1 - discount%) / list_price, at
    least the stated discount (a price above list does not hide a discount) and within 0..100. A lowered unit
    price counts like a discount, so it cannot skip the approvals a discount needs."""
    if list_price <= 0:
        return discount
    cut = (1 - unit_price * (1 - discount / 100) / list_price) * 100
    return min(Decimal(100), max(discount, cut)).quantize(CENT, rounding=ROUND_HALF_UP)


def tax_rate(session: Session) -> Decimal:
    """The sales tax rate in percent, from the `tax_rate_bp` setting."""
    return (Decimal(get_setting(session, "tax_rate_bp")) / 100).quantize(CENT)


def totals(lines: list[Line], rate: Decimal, *, field: str = "lines") -> Totals:
    """Subtotal (gross), discounts, tax on the net at `rate` percent, and the total; 422 if it is too large."""
    subtotal = sum((ln.gross for ln in lines), Decimal(0))
    discount_total = sum((ln.discount_amount for ln in lines), Decimal(0))
    net = subtotal - discount_total
    tax = (net * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    if net + tax >= MAX_TOTAL or subtotal >= MAX_TOTAL:
        raise _bad(field, "the total must stay below 10^12")
    return Totals(subtotal, discount_total, tax, net + tax,
                  max((ln.effective_discount for ln in lines), default=Decimal(0)))


def line_dict(row: Any) -> dict[str, Any]:
    """JSON shape of a stored quote or order line."""
    return {"id": row.id, "product_id": row.product_id, "quantity": float(row.quantity),
            "unit_price": float(row.unit_price), "discount": float(row.discount), "amount": float(row.amount)}
