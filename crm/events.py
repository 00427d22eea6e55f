"""CRM record events (`customer.created`, `opportunity.won`, `ticket.closed`…), derived from the audit trail's
writes so every write point raises them; the app factory plugs listeners in (webhooks), crm knows none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

# (session, event, {"entity", "id"}) -> None; called inside the write's transaction
RecordListener = Callable[[Session, str, dict[str, Any]], None]
ON_RECORD_EVENT: list[RecordListener] = []
EVENTS = ("customer.created", "customer.updated", "customer.transferred", "opportunity.won", "opportunity.lost",
          "opportunity.stage_changed", "contract.activated", "ticket.created", "ticket.closed")
_BY_ACTION = {("customer", "create"): "customer.created", ("customer", "claim"): "customer.transferred",
              ("customer", "release"): "customer.transferred", ("customer", "update"): "customer.updated",
              ("opportunity", "won"): "opportunity.won", ("opportunity", "lost"): "opportunity.lost",
              ("contract", "activate"): "contract.activated", ("ticket", "create"): "ticket.created",
              ("ticket", "close"): "ticket.closed"}


def event_of(entity: str, action: str, changes: dict[str, tuple[Any, Any]] | None) -> str | None:
    """The record event an audited write raises, if any."""
    changes = changes or {}
    if entity == "customer" and action == "update" and "owner" in changes:
        return "customer.transferred"
    if entity == "opportunity" and action == "update" and "stage" in changes:
        return "opportunity.stage_changed"
    if entity == "contract" and action in ("create", "update") and changes.get("status", (None, None))[1] == "active":
        return "contract.activated"
    return _BY_ACTION.get((entity, action))


def emit(session: Session, entity: str, entity_id: int, action: str,
         changes: dict[str, tuple[Any, Any]] | None) -> None:
    """Tell the listeners about the event an audited write raises (none for most writes)."""
    event = event_of(entity, action, changes)
    if event is None:
        return
    for listener in ON_RECORD_EVENT:
        listener(session, event, {"entity": entity, "id": entity_id})
