"""Expense claim start rule: every line amount is at least one cent once rounded to cents.

The claim's total is rounded to cents; a line of 1e-300 or 0.004 would enter approval as 0.00 (orders refuse
such lines too). Checked at start, before any approver, whatever version of the claim's form is deployed:
422 naming `items/<n>/amount`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from engine.start_checks import StartChecks
from store.errors import InvalidData

PROCESS_KEY = "expense_claim"
CENT = Decimal("0.01")


def _cents(value: Any) -> Decimal | None:
    """The amount rounded half-up to cents, or None if it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None


def check_line_amounts(session: Session, username: str, variables: dict[str, Any]) -> dict[str, Any]:
    """422 naming each line whose amount rounds to less than 0.01."""
    items = variables.get("items") if isinstance(variables.get("items"), list) else []
    errors = [{"field": f"items/{n}/amount", "message": "must be at least 0.01 once rounded to cents"}
              for n, item in enumerate(items)
              if isinstance(item, dict) and (cents := _cents(item.get("amount"))) is not None and cents < CENT]
    if errors:
        raise InvalidData("some line amounts round to 0.00", errors=errors)
    return {}


def register_checks(checks: StartChecks) -> None:
    """Plug the line-amount rule into the engine's start checks."""
    checks.register(PROCESS_KEY, check_line_amounts)
