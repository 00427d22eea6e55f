"""Idempotency keys (as Stripe's): a key remembers the request it was first used with.

The first request with a key stores, beside the instance it started or resumed, a SHA-256 of the request
(the operation — e.g. `start:leave_request` or `message` — and its canonical JSON body). Repeating the key
with the same request answers with that instance again, without acting twice; repeating it with a
different request is a 422 naming the `Idempotency-Key` header, never a silent replay of the other request.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidData
from engine.models import IdempotentStart, ProcessInstance

HEADER = "Idempotency-Key"


def request_hash(operation: str, body: Any) -> str:
    """The SHA-256 (hex) of `operation` and `body` as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps({"operation": operation, "body": body}, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(session: Session, caller: str, key: str, fingerprint: str | None) -> tuple[ProcessInstance, bool] | None:
    """The (instance, started) the key first answered for `caller`, or None if the key is new.

    422 if the key was first used with another request (`fingerprint` differs from the stored one; a key
    stored without a fingerprint, or checked without one, matches any request)."""
    row = session.scalar(select(IdempotentStart).where(IdempotentStart.caller == caller,
                                                       IdempotentStart.key == key))
    if row is None:
        return None
    if fingerprint is not None and row.request_hash is not None and row.request_hash != fingerprint:
        raise InvalidData(f"this {HEADER} was already used with a different request; use a new key",
                          errors=[{"field": HEADER, "message": "already used with a different request"}])
    instance = session.get(ProcessInstance, row.instance_id)
    return (instance, row.started is not False) if instance is not None else None


def remember(session: Session, caller: str, key: str, instance_id: int, fingerprint: str | None,
             started: bool) -> None:
    """Record the key's first answer (in the caller's transaction; the unique key catches a race)."""
    session.add(IdempotentStart(caller=caller, key=key, instance_id=instance_id, request_hash=fingerprint,
                                started=started))
