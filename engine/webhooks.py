"""Webhooks: engine events are queued in the step's transaction and POSTed after it commits, signed.

A delivery is sent only if the webhook's owner may read what the event is about (decided when it is sent,
by the policy the app plugs in) and only to a public address (see engine.webhook_targets).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Webhook, WebhookDelivery
from engine.webhook_targets import safe_post
from store.base import utcnow
from store.leases import claim, due_ids, sweep_abandoned
from store.readcache import ReadCache

log = logging.getLogger("oaflow.webhooks")
MAX_ATTEMPTS = 8
Poster = Callable[[str, bytes, dict[str, str]], int]
# (session, webhook owner, event, payload) -> may the owner read what the event is about?
Scope = Callable[[Session, str, str, dict[str, Any]], bool]
# built-in events and the names flows post with `webhook.post` (e.g. `expense.paid`)
EVENT_NAME = re.compile(r"[a-z0-9_.:-]{1,100}")


@dataclass(frozen=True)
class DeliveryPolicy:
    """What the sender needs from the app: who may see what, and whether private targets are allowed."""

    may_see: Scope
    allow_private: bool = False


def valid_event_name(name: str) -> bool:
    """True for an event name webhooks may subscribe to and flows may post."""
    return EVENT_NAME.fullmatch(name) is not None


def enqueue(session: Session, event: str, payload: dict[str, Any]) -> int:
    """Queue `event` for every active webhook subscribed to it (no commit); returns how many were queued."""
    count = 0
    for hook_id, events in _active_hooks(session):
        if events and event not in events:
            continue
        session.add(WebhookDelivery(webhook_id=hook_id, event=event, payload=payload))
        count += 1
    return count


# the active webhooks as each worker last read them (see store.readcache): a webhook registered or removed
# through this worker applies at once, through another worker (or host) within 2 s
ACTIVE_HOOKS: ReadCache[list[tuple[int, list[str] | None]]] = ReadCache("webhooks", 2.0, (Webhook,))


def _active_hooks(session: Session) -> list[tuple[int, list[str] | None]]:
    """(id, subscribed events) of the active webhooks: every step that queues events needs them."""
    return ACTIVE_HOOKS.get(session, "active", lambda: [
        (row.id, row.events) for row in session.execute(
            select(Webhook.id, Webhook.events).where(Webhook.active.is_(True)).order_by(Webhook.id))])


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The `X-Oaflow-Signature` header value: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">.

    The receiver recomputes the HMAC and rejects old timestamps, so a captured delivery cannot be replayed."""
    stamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def sign_legacy(secret: str, body: bytes) -> str:
    """The `X-Oaflow-Signature-Legacy` header value (the old scheme, kept for one release): sha256=<hex HMAC>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver_pending(session: Session, policy: DeliveryPolicy, post: Poster | None = None, limit: int = 50) -> int:
    """Send due deliveries; each is claimed under a lease (store.leases) so two senders never send one twice
    and a sender that dies between claim and finish leaves it due again when the lease ends.

    A delivery about something the webhook's owner may not read is dropped (status `refused`). Failures
    (a refused target address among them) back off exponentially and give up after MAX_ATTEMPTS.
    Returns how many were delivered.
    """
    post = post or partial(safe_post, allow_private=policy.allow_private)
    delivered = 0
    sweep_abandoned(session, WebhookDelivery, MAX_ATTEMPTS)
    for delivery_id in due_ids(session, WebhookDelivery, MAX_ATTEMPTS, limit):
        if not claim(session, WebhookDelivery, delivery_id, MAX_ATTEMPTS):
            continue
        delivery = session.get(WebhookDelivery, delivery_id)
        hook = session.get(Webhook, delivery.webhook_id)
        if not hook.active or not policy.may_see(session, hook.created_by, delivery.event, delivery.payload):
            delivery.status, delivery.last_error = "refused", "the webhook's owner may not read this"
            session.commit()
            continue
        body = json.dumps({"event": delivery.event, "delivery_id": delivery.id, "data": delivery.payload}).encode()
        headers = {"Content-Type": "application/json", "X-Oaflow-Event": delivery.event,
                   "X-Oaflow-Signature": sign(hook.secret, body),
                   "X-Oaflow-Signature-Legacy": sign_legacy(hook.secret, body)}
        try:
            status = post(hook.url, body, headers)
            ok = 200 <= status < 300
            error = None if ok else f"HTTP {status}"
            delivery.last_response_code = status
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
