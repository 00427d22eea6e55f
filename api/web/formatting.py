"""Dates and times as people read them: in the company time zone (store.clock, OAFLOW_TIMEZONE) and the
reader's locale — zh-CN `2026年12月2日 14:30`, English `Dec 2, 2026, 2:30 PM`. Stored times stay naive UTC.

Templates use `format_datetime(dt)` / `format_date(d)` (registered over Flask-Babel's, whose named formats
still work: `format_date(d, 'medium')`) and the `when` macro; file sizes (receipts, attachments) read the same on
every page through `format_size(bytes)`, and money through `format_money(amount)` (the `|money` filter): two
decimals and thousands separators in the reader's number format (`218,000.50` in English and zh-CN alike).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask
from flask_babel import format_date as babel_date
from flask_babel import format_datetime as babel_datetime
from flask_babel import format_decimal, get_locale

from store.clock import company_date, company_timezone

# the reader's locale → pattern (Babel's CLDR "short" English is 12/2/26, which reads ambiguously)
DATETIME_PATTERNS = {"zh": "y年M月d日 HH:mm", "en": "MMM d, y, h:mm a"}
DATE_PATTERNS = {"zh": "y年M月d日", "en": "MMM d, y"}
DAY_HEADING_PATTERNS = {"zh": "M月d日 EEE", "en": "EEE d MMM"}  # a calendar column: 12月7日 周一 / Mon 7 Dec
TIME_PATTERN = "HH:mm"
# a number named with one of these is money, shown with two decimals (a task's `total`, an admin's view of it)
MONEY_WORDS = ("amount", "total", "price", "cost", "budget")


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in DATETIME_PATTERNS else "en"


def format_datetime(value: datetime | None, format: str | None = None) -> str:  # noqa: A002
    """A stored (naive UTC) moment in the company time zone, in the reader's format ('' for None)."""
    if value is None:
        return ""
    return str(babel_datetime(value, format or DATETIME_PATTERNS[_language()]))


def format_date(value: date | datetime | str | None, format: str | None = None) -> str:  # noqa: A002
    """A calendar day in the reader's format ('' for None); a moment is first put in the company time zone. An
    ISO date text (as the record dicts carry it) is read first; any other text is shown as it is."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10]) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return str(babel_datetime(value, format or DATE_PATTERNS[_language()]))
    return str(babel_date(value, format or DATE_PATTERNS[_language()]))


def format_day_heading(value: date) -> str:
    """A calendar column's heading: the day and weekday in the reader's order (12月7日 周一, Mon 7 Dec)."""
    return str(babel_date(value, DAY_HEADING_PATTERNS[_language()]))


def format_time(value: datetime | None) -> str:
    """The company's wall-clock time (HH:mm) of a stored (naive UTC) moment ('' for None)."""
    return "" if value is None else str(babel_datetime(value, TIME_PATTERN))


def format_size(size: int) -> str:
    """A file size as every page shows it: bytes under 1 KB (`60 B`), then KB below 1 MB and MB above, with one
    decimal in the reader's number format (`12.3 KB`, `1.5 MB`)."""
    if size < 1024:
        return f"{format_decimal(max(size, 0), format='#,##0')} B"
    kb = size / 1024
    if round(kb, 1) < 1024:
        return f"{format_decimal(kb, format='#,##0.0')} KB"
    return f"{format_decimal(kb / 1024, format='#,##0.0')} MB"


def format_money(value: Any) -> str:
    """An amount of money with two decimals and the locale's separators (`218,000.50`; '' for None). Reports and
    the API keep their numbers as they are; only pages format them. Anything that is not a number is shown as
    it is."""
    if value is None or value == "" or isinstance(value, bool):
        return "" if value is None or value == "" else str(value)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not number.is_finite():
        return str(value)
    return str(format_decimal(number, format="#,##0.00"))


def is_money_name(name: str) -> bool:
    """Whether a field or variable of this name holds money (`total`, `amount`, `unit_price`, ...)."""
    return any(w in name.lower() for w in MONEY_WORDS)


def company_day(value: datetime) -> date:
    """The company's calendar day of a stored (naive UTC) moment."""
    return company_date(value)


def zone_name() -> str:
    """The company time zone's IANA name (e.g. Asia/Shanghai), for "times in …" notes."""
    return company_timezone().key


def init_formatting(app: Flask) -> None:
    """Register the formatters as template globals and filters (after Flask-Babel)."""
    app.jinja_env.globals.update(format_datetime=format_datetime, format_date=format_date,
                                 format_day_heading=format_day_heading, format_time=format_time,
                                 company_day=company_day, company_zone_name=zone_name, format_size=format_size,
                                 format_money=format_money)
    app.jinja_env.filters.update(datetime=format_datetime, date=format_date, money=format_money)
