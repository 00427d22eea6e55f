"""Webhooks: engine events are queued in the step's transaction and POSTed after it commits, signed."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.request
import weakref
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from engine.models import Webhook, WebhookDelivery
from store.base import utcnow

log = logging.getLogger("oaflow.webhooks")
MAX_ATTEMPTS = 8
Poster = Callable[[str, bytes, dict[str, str]], int]


def enqueue(session: Session, event: str, payload: dict[str, Any]) -> int:
    """Queue `event` for every active webhook subscribed to it (no commit); returns how many were queued."""
    count = 0
    for hook_id, events in _active_hooks(session):
        if events and event not in events:
            continue
        session.add(WebhookDelivery(webhook_id=hook_id, event=event, payload=payload))
        count += 1
    return count


# how long a worker trusts the active webhooks it read: a webhook registered or removed through another
# worker (or host) gets its events from there on within this time; through this worker, at once
HOOKS_TTL_SECONDS = 2.0


class _ActiveHooks:
    """(id, subscribed events) of the active webhooks, as this process last read them.

    Every step that queues events needs the list, and it changes rarely: reading it once every
    HOOKS_TTL_SECONDS instead of once per transaction saves a statement on every step. A commit of
    this process that changed a webhook drops the list at once.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: list[tuple[int, list[str] | None]] | None = None
        self.read_at = 0.0
        self.generation = 0  # bumped by forget(): a read that started before it is not kept

    def get(self, session: Session) -> list[tuple[int, list[str] | None]]:
        with self.lock:
            rows, read_at, generation = self.rows, self.read_at, self.generation
        if rows is not None and time.monotonic() - read_at < HOOKS_TTL_SECONDS:
            return rows
        began = time.monotonic()
        rows = [(row.id, row.events) for row in session.execute(
            select(Webhook.id, Webhook.events).where(Webhook.active.is_(True)).order_by(Webhook.id))]
        with self.lock:
            if self.generation == generation:
                self.rows, self.read_at = rows, began
        return rows

    def forget(self) -> None:
        with self.lock:
            self.rows, self.generation = None, self.generation + 1


# one list per database engine (a process has one; the test suite builds many)
_HOOKS: weakref.WeakKeyDictionary[Any, _ActiveHooks] = weakref.WeakKeyDictionary()
_HOOKS_LOCK = threading.Lock()
_CHANGED_KEY = "oaflow.webhooks_changed"


def _hooks_of(session: Session) -> _ActiveHooks:
    bind = session.get_bind()
    with _HOOKS_LOCK:
        found = _HOOKS.get(bind)
        if found is None:
            found = _HOOKS[bind] = _ActiveHooks()
        return found


def _active_hooks(session: Session) -> list[tuple[int, list[str] | None]]:
    return _hooks_of(session).get(session)


@event.listens_for(Session, "after_flush")
def _note_webhook_change(session: Session, _flush_context: Any) -> None:
    if any(isinstance(obj, Webhook) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info[_CHANGED_KEY] = True


@event.listens_for(Session, "after_commit")
def _forget_changed_hooks(session: Session) -> None:
    if session.info.pop(_CHANGED_KEY, False):
        _hooks_of(session).forget()


def sign(secret: str, body: bytes) -> str:
    """The `X-Oaflow-Signature` header value: sha256=<hex HMAC of the body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (http/https checked at creation)
        return response.status


def deliver_pending(session: Session, post: Poster = _post, limit: int = 50) -> int:
    """Send due deliveries; each is claimed with a conditional UPDATE so two senders never send one twice.

    Failures back off exponentially and give up after MAX_ATTEMPTS. Returns how many were delivered.
    """
    delivered = 0
    now = utcnow()
    due = session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now).limit(limit)).all()
    for delivery_id in due:
        claimed = session.execute(update(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending").values(status="sending"))
        session.commit()
        if claimed.rowcount != 1:
            continue
        delivery = session.get(WebhookDelivery, delivery_id)
        hook = session.get(Webhook, delivery.webhook_id)
        body = json.dumps({"event": delivery.event, "delivery_id": delivery.id, "data": delivery.payload}).encode()
        headers = {"Content-Type": "application/json", "X-Oaflow-Event": delivery.event,
                   "X-Oaflow-Signature": sign(hook.secret, body)}
        delivery.attempts += 1
        try:
            status = post(hook.url, body, headers)
            ok = 200 <= status < 300
            error = None if ok else f"HTTP {status}"
        except Exception as err:  # any network failure is retried later
            ok, error = False, f"{type(err).__name__}: {err}"[:500]
        if ok:
            delivery.status, delivery.last_error = "delivered", None
            delivered += 1
        else:
            delivery.last_error = error
            delivery.status = "failed" if delivery.attempts >= MAX_ATTEMPTS else "pending"
            delivery.next_attempt_at = utcnow() + timedelta(seconds=min(2 ** delivery.attempts * 5, 3600))
            log.warning("webhook %s delivery %s failed (%s), attempt %s", hook.id, delivery.id, error,
                        delivery.attempts)
        session.commit()
    return delivered
