"""Expense receipts: a line item's `receipt` is the id of a file the applicant uploaded first
(`POST /api/v1/attachments`). At start every receipt must be the applicant's own upload that no request
uses yet (else 422 naming `items/<n>/receipt`); the claim's first step, `oa.attach_receipts`, attaches them
to the instance, where the approvers read them with the instance's other attachments.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine import attachments
from engine.services import ServiceCall, ServiceRegistry
from engine.start_checks import StartChecks
from store.errors import InvalidData

PROCESS_KEY = "expense_claim"


def _receipts(variables: dict[str, Any]) -> list[tuple[int, int]]:
    items = variables.get("items") if isinstance(variables.get("items"), list) else []
    return [(n, item["receipt"]) for n, item in enumerate(items)
            if isinstance(item, dict) and isinstance(item.get("receipt"), int)]


def check_receipts(session: Session, username: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Every receipt must be an unused upload of the applicant, and used by one line only."""
    receipts = _receipts(variables)
    errors, seen = [], set()
    bad = set(attachments.unusable_pending(session, [r for _, r in receipts], username))
    for n, receipt in receipts:
        if receipt in bad:
            errors.append({"field": f"items/{n}/receipt",
                           "message": "not a file you uploaded (POST /api/v1/attachments) for a new request"})
        elif receipt in seen:
            errors.append({"field": f"items/{n}/receipt", "message": "already the receipt of another line"})
        seen.add(receipt)
    if errors:
        raise InvalidData("some receipts cannot be used", errors=errors)
    return {}


def attach_receipts(call: ServiceCall) -> dict[str, Any]:
    """Attach the claim's receipts (pending uploads of its applicant) to the calling instance."""
    ids = [r for _, r in _receipts({"items": call.params.get("items")})]
    claimed = attachments.claim_pending(call.session, ids, call.started_by or "", call.instance_id)
    if claimed != len(ids):
        raise ValueError("a receipt was used by another request at the same time")
    return {"receipts": claimed}


def register_checks(checks: StartChecks) -> None:
    """Plug the receipt check into the engine's start checks."""
    checks.register(PROCESS_KEY, check_receipts)


def register_operations(registry: ServiceRegistry) -> None:
    """Register `oa.attach_receipts` {items}."""
    registry.register("oa.attach_receipts", attach_receipts, required={"items"})
