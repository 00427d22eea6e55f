"""POST /messages: correlate a message by name and business key to start or resume instances."""

from __future__ import annotations

from flask import Blueprint, request

from api.auth import current_actor, require_roles
from api.errors import ApiError
from api.extensions import db
from api.http import json_body
from api.routes.instances import instance_dict
from api.schemas import MessageRequest
from api.state import get_engine
from engine import idempotency

bp = Blueprint("messages", __name__)


@bp.post("/messages")
def correlate() -> tuple[dict, int]:
    """Deliver a message: 200 with the resumed instance, or 201 with the instance it started. With an
    Idempotency-Key, a repeat of the same request gets the first answer again (same status and body)
    without correlating again; the same key with a different request is a 422."""
    require_roles("integrator", "admin")
    body = json_body(MessageRequest)
    key = request.headers.get(idempotency.HEADER)
    if key is not None and not (1 <= len(key) <= 255):
        raise ApiError(400, "Malformed request", f"{idempotency.HEADER} must be 1 to 255 characters",
                       errors=[{"field": idempotency.HEADER, "message": "1 to 255 characters"}])
    fingerprint = idempotency.request_hash("message", body) if key is not None else None
    inst, started = get_engine().correlate(db.session, current_actor(), body["name"], body["business_key"],
                                           body["variables"], idempotency_key=key, request_hash=fingerprint)
    return {"started": started, "instance": instance_dict(inst)}, 201 if started else 200
