"""The in-app inbox: `notify()` writes a notification (any package or operation may call it); users read theirs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.orm import Session

from oa.record_models import Notification
from store.base import utcnow
from store.errors import InvalidData, NotFound
from store.messages import stored


@dataclass(frozen=True)
class Notice:
    """A notification to write (or one just written by `notify_many`)."""

    user: str
    kind: str
    title: str
    body: str = ""
    link: str | None = None
    instance_id: int | None = None
    # the title and body as message keys + parameters (store.messages), rendered in the reader's language
    message: dict | None = None


# called with (session, notification) after each notification is added; the app factory plugs webhooks in here
ON_NOTIFY: list[Callable[[Session, Notification | Notice], None]] = []
MAX_TITLE = 200
MAX_BODY = 10_000


def _clean(username: Any, kind: str | None, title: Any, body: Any, link: Any, instance_id: int | None) -> Notice:
    errors = []
    if not isinstance(username, str) or not username.strip():
        errors.append({"field": "user", "message": "a username is required"})
    if not isinstance(title, str) or not title.strip():
        errors.append({"field": "title", "message": "a title is required"})
    if errors:
        raise InvalidData("the notification is incomplete", errors=errors)
    keyed = {part: found for part, found in (("title", stored(title)), ("body", stored(body))) if found}
    return Notice(user=username.strip()[:100], kind=(kind or "info")[:40], title=title.strip()[:MAX_TITLE],
                  body=str(body or "")[:MAX_BODY], link=(link or None) and str(link)[:500], instance_id=instance_id,
                  message=keyed or None)


def notify(session: Session, username: str, kind: str, title: str, body: str = "", link: str | None = None,
           instance_id: int | None = None) -> Notification:
    """Add a notification for `username` to the session (the caller's transaction commits it)."""
    notice = _clean(username, kind, title, body, link, instance_id)
    row = Notification(user=notice.user, kind=notice.kind, title=notice.title, body=notice.body, link=notice.link,
                       instance_id=notice.instance_id, message=notice.message, created_at=utcnow())
    session.add(row)
    for hook in list(ON_NOTIFY):
        hook(session, row)
    return row


def notify_many(session: Session, notices: Iterable[Notice]) -> list[Notice]:
    """Write several notifications in one INSERT (in the caller's transaction); all or none are valid."""
    clean = [_clean(n.user, n.kind, n.title, n.body, n.link, n.instance_id) for n in notices]
    if clean:
        now = utcnow()
        session.execute(insert(Notification.__table__), [
            {"user": n.user, "kind": n.kind, "title": n.title, "body": n.body, "link": n.link,
             "instance_id": n.instance_id, "message": n.message, "created_at": now, "read_at": None}
            for n in clean])
        for notice in clean:
            for hook in list(ON_NOTIFY):
                hook(session, notice)
    return clean


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
