"""Claiming queued deliveries (webhook and channel deliveries) with a lease, so none is ever stuck.

A sender claims a due row with one conditional UPDATE that sets ``status='sending'``, counts the attempt and
moves ``next_attempt_at`` to the end of the lease. Only one of two concurrent senders matches the condition.
If the sender dies or its final commit fails (SQLite's "database is locked") between claim and finish, the
row stays ``sending`` only until its lease ends: it is then due again (the claim query is the sweeper), and
once its attempts are used up :func:`sweep_abandoned` marks it ``failed``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from store.base import utcnow

LEASE = timedelta(seconds=120)  # longer than any send may take (HTTP and SMTP time out after 10 s)


def _due(model: Any, now: datetime, max_attempts: int) -> Any:
    return and_(or_(model.status == "pending", model.status == "sending"), model.next_attempt_at <= now,
                model.attempts < max_attempts)


def due_ids(session: Session, model: Any, max_attempts: int, limit: int) -> list[int]:
    """Ids of rows due to be sent: pending ones whose time has come and sending ones whose lease ended."""
    return list(session.scalars(select(model.id).where(_due(model, utcnow(), max_attempts))
                                .order_by(model.id).limit(limit)).all())


def claim(session: Session, model: Any, row_id: int, max_attempts: int) -> bool:
    """Claim one row for sending under a lease (committed); False if another sender has it or it is not due."""
    now = utcnow()
    claimed = session.execute(update(model).where(model.id == row_id, _due(model, now, max_attempts))
                              .values(status="sending", next_attempt_at=now + LEASE, attempts=model.attempts + 1)
                              .execution_options(synchronize_session=False))
    session.commit()
    return claimed.rowcount == 1


def sweep_abandoned(session: Session, model: Any, max_attempts: int) -> int:
    """Mark `failed` the rows whose lease ended after their last attempt (committed); how many."""
    swept = session.execute(update(model).where(
        model.status == "sending", model.next_attempt_at <= utcnow(), model.attempts >= max_attempts)
        .values(status="failed", last_error="the sender stopped before finishing the last attempt")
        .execution_options(synchronize_session=False))
    session.commit()
    return swept.rowcount
