"""CRM settings an administrator may change: the public-pool release age, the per-rep claim cap and the
thresholds of the RFM segments (crm.reports.segments), the sales tax rate and the width of document numbers."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.models import CrmSetting
from store.errors import InvalidData

DEFAULTS: dict[str, int] = {
    "pool_release_days": 30,  # a customer with no follow-up for this many days returns to the pool
    "claim_cap": 50,  # how many customers one rep may own before claims from the pool are refused
    "rfm_window_days": 365,  # F and M count the transactions of this many days back
    "rfm_lost_days": 180,  # no transaction for longer than this: lost
    "rfm_high_value_days": 90,  # high value: bought within this many days ...
    "rfm_high_value_amount": 100_000,  # ... and paid at least this much within the window
    "rfm_at_risk_days": 60,  # no transaction for longer than this: at risk
    "tax_rate_bp": 1300,  # sales tax on quotes and orders, in basis points (1300 = 13%)
    "number_digits": 4,  # digits of the running part of order/quote/invoice numbers (SO-2026-0001)
}
LIMITS: dict[str, tuple[int, int]] = {"pool_release_days": (1, 3650), "claim_cap": (1, 100_000),
                                      "rfm_window_days": (1, 3650), "rfm_lost_days": (1, 3650),
                                      "rfm_high_value_days": (1, 3650), "rfm_high_value_amount": (1, 10**11),
                                      "rfm_at_risk_days": (1, 3650), "tax_rate_bp": (0, 10_000),
                                      "number_digits": (3, 8)}


def get_setting(session: Session, key: str) -> int:
    """The current value of a setting (its default if never set)."""
    row = session.get(CrmSetting, key)
    return int(row.value) if row is not None else DEFAULTS[key]


def all_settings(session: Session) -> dict[str, int]:
    """Every setting with its current value."""
    return {key: get_setting(session, key) for key in DEFAULTS}


def set_settings(session: Session, values: dict[str, int]) -> dict[str, int]:
    """Change settings (422 naming an unknown key or a value out of range)."""
    errors = []
    for key, value in values.items():
        if key not in DEFAULTS:
            errors.append({"field": key, "message": "unknown setting"})
        elif not isinstance(value, int) or isinstance(value, bool) or not LIMITS[key][0] <= value <= LIMITS[key][1]:
            low, high = LIMITS[key]
            errors.append({"field": key, "message": f"must be an integer between {low} and {high}"})
    if errors:
        raise InvalidData("invalid settings", errors=errors)
    for key, value in values.items():
        row = session.get(CrmSetting, key) or CrmSetting(key=key, value="0")
        row.value = str(value)
        session.add(row)
    session.flush()
    return all_settings(session)
