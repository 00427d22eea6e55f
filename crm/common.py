"""Small helpers shared by the CRM modules: money, dates, periods and JSON conversion."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from store.errors import InvalidData
from store.messages import Message

CENT = Decimal("0.01")
PERIOD_RE = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2]|Q[1-4]))?$")  # YYYY, YYYY-MM or YYYY-Qn
PERIOD_YEARS = (2000, 2100)  # the years a report period may name
INVISIBLE = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})  # spaces, line breaks, control and format characters


def _invisible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in INVISIBLE


def visible_text(text: str | None) -> str:
    """`text` without the invisible characters (Unicode spaces, control and format characters such as a
    zero-width space) at either end; empty if nothing visible is left."""
    chars = list(text or "")
    start = next((i for i, ch in enumerate(chars) if not _invisible(ch)), len(chars))
    end = next((i for i in range(len(chars) - 1, start - 1, -1) if not _invisible(chars[i])), start - 1)
    return "".join(chars[start:end + 1])


def money(value: Any, field: str = "amount", *, allow_zero: bool = True) -> Decimal:
    """A non-negative amount rounded to cents (422 naming `field` otherwise)."""
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidData(Message("{field} must be a number", field=field),
                          errors=[{"field": field, "message": Message("not a number")}]) from None
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero) or amount >= Decimal("1e12"):
        raise InvalidData(Message("{field} is out of range", field=field),
                          errors=[{"field": field, "message": Message("must be positive and below 10^12")}])
    return amount


def num(value: Any) -> float:
    """A money value as a JSON number (2 decimals)."""
    return float(Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP))


def iso(value: date | datetime | None) -> str | None:
    """ISO text of a date or datetime, or None."""
    return value.isoformat() if value is not None else None


def parse_period(period: str, field: str = "period") -> tuple[date, date]:
    """[start, end) dates of a period written YYYY, YYYY-MM or YYYY-Qn (422 naming `field` otherwise)."""
    match = PERIOD_RE.match(period or "")
    if not match:
        raise InvalidData("period must be YYYY, YYYY-MM or YYYY-Qn",
                          errors=[{"field": field, "message": "must be YYYY, YYYY-MM or YYYY-Qn"}])
    year, part = int(match.group(1)), match.group(2)
    if not PERIOD_YEARS[0] <= year <= PERIOD_YEARS[1]:  # reports also look a year or more around the period
        raise InvalidData(f"period year must be {PERIOD_YEARS[0]}..{PERIOD_YEARS[1]}",
                          errors=[{"field": field, "message": f"year must be {PERIOD_YEARS[0]}..{PERIOD_YEARS[1]}"}])
    if part is None:
        return date(year, 1, 1), date(year + 1, 1, 1)
    if part.startswith("Q"):
        first = (int(part[1]) - 1) * 3 + 1
        months = 3
    else:
        first, months = int(part), 1
    start = date(year, first, 1)
    end_month = first + months
    end = date(year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return start, end


def month_of(day: date) -> str:
    """YYYY-MM of a date."""
    return f"{day.year:04d}-{day.month:02d}"
