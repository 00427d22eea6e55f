"""How a finished request ended, read from its flow's variables (never typed): turned down when its `outcome`
says rejected/cancelled/declined/refused or, without an `outcome`, its last decision was `approved = false`;
otherwise approved — in the flow's own word when it names one (`paid`, `confirmed`, `visited`, ...).

The engine words the applicant's "finished" notification with `final_word`, the web pages their outcome badge
with the same rule (api.web.approvals.outcome), so a request reads the same in the list, on its page and in
the notification.
"""

from __future__ import annotations

from typing import Any

# outcome values the shipped flows (and designers following them) set when a request is turned down
REJECTED_OUTCOMES = ("rejected", "cancelled", "declined", "refused")


def turned_down(variables: dict[str, Any]) -> bool:
    """Whether a completed request with these variables was rejected."""
    said = variables.get("outcome")
    if isinstance(said, str) and said.lower() in REJECTED_OUTCOMES:
        return True
    return said is None and variables.get("approved") is False


def final_word(variables: dict[str, Any]) -> str:
    """The outcome of a completed request as one word: `rejected`, the flow's own word for an approved end
    (`paid`, `confirmed`, ...), or `approved` when it names none."""
    if turned_down(variables):
        return "rejected"
    said = variables.get("outcome")
    return said.strip() if isinstance(said, str) and said.strip() else "approved"
