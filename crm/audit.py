"""The CRM audit trail: every change to a CRM record as (who, when, field, old -> new)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm import events
from crm.models import AuditEntry
from store.base import utcnow


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)[:2000]


def record(session: Session, entity: str, entity_id: int, user: str | None, action: str,
           changes: dict[str, tuple[Any, Any]] | None = None) -> None:
    """Append audit rows: one per changed field, or one row for the action if no fields changed; the write's
    record event (crm.events) goes to its listeners."""
    now = utcnow()
    events.emit(session, entity, entity_id, action, changes)
    if not changes:
        session.add(AuditEntry(entity=entity, entity_id=entity_id, action=action, user=user, at=now))
        return
    for field, (old, new) in changes.items():
        session.add(AuditEntry(entity=entity, entity_id=entity_id, action=action, field=field,
                               old_value=_text(old), new_value=_text(new), user=user, at=now))


def apply_changes(obj: Any, data: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Set attributes of `obj` from `data`; returns {field: (old, new)} for the ones that really changed."""
    changes: dict[str, tuple[Any, Any]] = {}
    for key, new in data.items():
        old = getattr(obj, key)
        same = (old is None and new is None) or (
            old is not None and new is not None and _text(old) == _text(new))
        if not same:
            setattr(obj, key, new)
            changes[key] = (old, new)
    return changes


def entries(session: Session, entity: str, entity_id: int) -> list[AuditEntry]:
    """The audit trail of one record, oldest first."""
    return list(session.scalars(select(AuditEntry).where(AuditEntry.entity == entity,
                                                         AuditEntry.entity_id == entity_id)
                                .order_by(AuditEntry.at, AuditEntry.id)))


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    """JSON shape of one audit row."""
    return {"id": entry.id, "entity": entry.entity, "entity_id": entry.entity_id, "action": entry.action,
            "field": entry.field, "old": entry.old_value, "new": entry.new_value, "user": entry.user,
            "at": entry.at.isoformat()}


_READS_KEY = "oaflow.crm.task_reads"


def note_read(session: Session, entity: str, entity_id: int, user: str, task_id: str) -> None:
    """Remember a read that only an open task allowed ("read via task #N"); written by write_noted_reads once
    the request has answered (a read-only request holds no write transaction to put it in)."""
    session.info.setdefault(_READS_KEY, set()).add((entity, entity_id, user, task_id))


def noted_reads(session: Session) -> bool:
    """True if task-granted reads wait to be written."""
    return bool(session.info.get(_READS_KEY))


def add_noted_reads(session: Session) -> int:
    """Add the noted task-granted reads to the session as audit rows (the caller commits); returns how many."""
    reads = session.info.pop(_READS_KEY, None) or set()
    now = utcnow()
    session.add_all(AuditEntry(entity=entity, entity_id=entity_id, action="read via task", field="task",
                               new_value=task_id, user=user, at=now)
                    for entity, entity_id, user, task_id in sorted(reads))
    return len(reads)


def discard_noted_reads(session: Session) -> None:
    """Forget noted reads (the request failed: nothing was shown)."""
    session.info.pop(_READS_KEY, None)
