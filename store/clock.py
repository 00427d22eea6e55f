"""The company time zone: stored times stay naive UTC; days, months and displayed times are the company's.

The zone comes from the OAFLOW_TIMEZONE setting (an IANA name, default Asia/Shanghai) and is set once per
process by the app factory (`set_company_timezone`). Attendance day boundaries and lateness, calendar weeks,
report months and every time the web pages show are computed in it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Shanghai"
_zone: ZoneInfo = ZoneInfo(DEFAULT_TIMEZONE)


def zone_named(name: str) -> ZoneInfo:
    """The zone of an IANA name; ValueError naming it if unknown (a setting must fail at start, not later)."""
    try:
        if not name or len(name) > 64:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"unknown time zone {name[:64]!r}: use an IANA name such as Asia/Shanghai") from err


def set_company_timezone(name: str) -> ZoneInfo:
    """Make `name` the company time zone of this process (raises ValueError if unknown)."""
    global _zone
    _zone = zone_named(name)
    return _zone


def company_timezone() -> ZoneInfo:
    """The company time zone."""
    return _zone


def to_company(moment: datetime) -> datetime:
    """A stored (naive UTC, or aware) moment as the company's local time (aware)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_zone)


def company_date(moment: datetime | None = None) -> date:
    """The company's calendar day of a stored moment (default: now)."""
    return to_company(moment or datetime.now(UTC)).date()


def day_start_utc(day: date) -> datetime:
    """The naive-UTC moment the company's day `day` begins (for queries on stored times)."""
    return wall_time_utc(day, time(0))


def day_range_utc(first: date, last: date) -> tuple[datetime, datetime]:
    """Naive-UTC [start, end) of the company's days first..last inclusive."""
    return day_start_utc(first), day_start_utc(last + timedelta(days=1))


def wall_time_utc(day: date, at: time) -> datetime:
    """The naive-UTC moment of the company's wall-clock time `at` on `day` (08:30 in Shanghai is 00:30 UTC): what
    to store for a time people read off the office clock."""
    return datetime.combine(day, at, _zone).astimezone(UTC).replace(tzinfo=None)
