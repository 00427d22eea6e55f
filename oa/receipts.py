"""Expense receipts: a line item's `receipt` is the id of a file the applicant uploaded first
(`POST /api/v1/attachments`). At start every receipt must be the applicant's own upload that no request
uses yet (else 422 naming `items/<n>/receipt`), and whose content is not the receipt of another claim that is in
approval, paid, or stuck on an incident (a copied claim, or the same file uploaded again, must not be paid twice;
a rejected, withdrawn or cancelled claim's receipts may be claimed again). The claim's first step,
`oa.attach_receipts`, attaches them to the instance, where the approvers read them with its other attachments.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from engine import attachments
from engine.models import InstanceAttachment, ProcessInstance
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
    if not errors:
        errors = _same_file_twice(session, receipts)
    if not errors:
        claimed = claimed_elsewhere(session, [r for _, r in receipts])
        errors = [{"field": f"items/{n}/receipt", "message": _claimed_text(session, username, claimed[receipt])}
                  for n, receipt in receipts if receipt in claimed]
    if errors:
        raise InvalidData("some receipts cannot be used", errors=errors)
    return {}


def _same_file_twice(session: Session, receipts: list[tuple[int, int]]) -> list[dict[str, str]]:
    """Two lines of one claim whose uploads hold the same file (uploaded twice): the later line is named."""
    digests = dict(session.execute(select(InstanceAttachment.id, InstanceAttachment.sha256).where(
        InstanceAttachment.id.in_([r for _, r in receipts]))).all()) if receipts else {}
    seen: set[str] = set()
    errors = []
    for n, receipt in receipts:
        digest = digests.get(receipt)
        if digest in seen:
            errors.append({"field": f"items/{n}/receipt", "message": "the same file as the receipt of another line"})
        elif digest is not None:
            seen.add(digest)
    return errors


def _claimed_text(session: Session, username: str, claim_id: int) -> str:
    """Why a receipt is refused: the claim that holds it when it is the applicant's own, else no number (another
    person's claim is none of their business)."""
    if session.scalar(select(ProcessInstance.started_by).where(ProcessInstance.id == claim_id)) == username:
        return f"this receipt is already claimed in your expense claim #{claim_id}"
    return "this receipt is already claimed in another expense claim"


def claimed_elsewhere(session: Session, upload_ids: list[int]) -> dict[int, int]:
    """{upload id: claim id} for the uploads whose content (SHA-256) is a receipt of an expense claim that is
    in approval, paid or on an incident - anything but rejected, withdrawn or cancelled."""
    if not upload_ids:
        return {}
    digests = dict(session.execute(select(InstanceAttachment.id, InstanceAttachment.sha256).where(
        InstanceAttachment.id.in_(upload_ids))).all())
    if not digests:
        return {}
    outcome = func.lower(func.coalesce(ProcessInstance.variables["outcome"].as_string(), ""))
    live = or_(ProcessInstance.status.in_(("running", "error")),
               and_(ProcessInstance.status == "completed", outcome != "rejected"))
    rows = session.execute(select(InstanceAttachment.sha256, func.min(ProcessInstance.id))
                           .join(ProcessInstance, ProcessInstance.id == InstanceAttachment.instance_id)
                           .where(InstanceAttachment.sha256.in_(set(digests.values())),
                                  ProcessInstance.process_key == PROCESS_KEY, live)
                           .group_by(InstanceAttachment.sha256)).all()
    by_digest = dict(rows)
    return {upload: by_digest[digest] for upload, digest in digests.items() if digest in by_digest}


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
