"""The in-app inbox: `notify()` writes a notification (any package or operation may call it); users read theirs."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from oa.record_models import Notification
from store.base import utcnow
from store.errors import InvalidData, NotFound

# called with (session, notification) after each notify(); the app factory plugs webhooks in here
ON_NOTIFY: list[Callable[[Session, Notification], None]] = []
MAX_TITLE = 200
MAX_BODY = 10_000


def notify(session: Session, username: str, kind: str, title: str, body: str = "", link: str | None = None,
           instance_id: int | None = None) -> Notification:
    """Add a notification for `username` to the session (the caller's transaction commits it)."""
    errors = []
    if not isinstance(username, str) or not username.strip():
        errors.append({"field": "user", "message": "a username is required"})
    if not isinstance(title, str) or not title.strip():
        errors.append({"field": "title", "message": "a title is required"})
    if errors:
        raise InvalidData("the notification is incomplete", errors=errors)
    row = Notification(user=username.strip()[:100], kind=(kind or "info")[:40], title=title.strip()[:MAX_TITLE],
                       body=str(body or "")[:MAX_BODY], link=(link or None) and str(link)[:500],
                       instance_id=instance_id, created_at=utcnow())
    session.add(row)
    for hook in list(ON_NOTIFY):
        hook(session, row)
    return row


def inbox_query(username: str, unread_only: bool = False) -> Select:
    """The user's notifications, newest first."""
    query = select(Notification).where(Notification.user == username)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query.order_by(Notification.created_at.desc(), Notification.id.desc())


def unread_count(session: Session, username: str) -> int:
    """How many unread notifications the user has."""
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user == username, Notification.read_at.is_(None))) or 0


def mark_read(session: Session, username: str, notification_id: int) -> Notification:
    """Mark one of the user's own notifications read (404 for anyone else's); reading twice keeps the first time."""
    row = session.get(Notification, notification_id)
    if row is None or row.user != username:
        raise NotFound(f"no notification {notification_id}")
    if row.read_at is None:
        row.read_at = utcnow()
    return row


def mark_all_read(session: Session, username: str) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    result = session.execute(update(Notification).where(Notification.user == username,
                                                        Notification.read_at.is_(None)).values(read_at=utcnow()))
    return result.rowcount or 0
