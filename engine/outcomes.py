"""How a finished request ended, read from its flow's variables (never typed): turned down when its `outcome`
says rejected/declined/refused or, without an `outcome`, its last decision was `approved = false`; cancelled when
the flow itself ended it as `cancelled` (a rejected order the rep gave up: the order is cancelled, and so is the
request, as an administrator's cancel would say); otherwise approved — in the flow's own word when it names one
(`paid`, `confirmed`, `visited`, ...).

The engine words the applicant's "finished" notification with `final_word`, the web pages their outcome badge
with the same rule (api.web.approvals.outcome), so a request reads the same in the list, on its page and in
the notification.
"""

from __future__ import annotations

from typing import Any

# outcome values the shipped flows (and designers following them) set when a request is turned down
REJECTED_OUTCOMES = ("rejected", "declined", "refused")
# outcome values of a request the flow itself ended without a decision for it (the applicant gave up)
CANCELLED_OUTCOMES = ("cancelled", "canceled")


def turned_down(variables: dict[str, Any]) -> bool:
    """Whether a completed request with these variables was rejected."""
    said = variables.get("outcome")
    if isinstance(said, str) and said.lower() in REJECTED_OUTCOMES:
        return True
    return said is None and variables.get("approved") is False


def called_off(variables: dict[str, Any]) -> bool:
    """Whether a completed request with these variables ended cancelled by its own flow."""
    said = variables.get("outcome")
    return isinstance(said, str) and said.lower() in CANCELLED_OUTCOMES


def final_word(variables: dict[str, Any]) -> str:
    """The outcome of a completed request as one word: `rejected`, `cancelled`, the flow's own word for an
    approved end (`paid`, `confirmed`, ...), or `approved` when it names none."""
    if turned_down(variables):
        return "rejected"
    if called_off(variables):
        return "cancelled"
    said = variables.get("outcome")
    return said.strip() if isinstance(said, str) and said.strip() else "approved"
