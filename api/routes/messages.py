"""POST /messages: correlate a message by name and business key to start or resume instances."""

from __future__ import annotations

from flask import Blueprint

from api.auth import current_actor, require_roles
from api.extensions import db
from api.http import json_body
from api.routes.instances import instance_dict
from api.schemas import MessageRequest
from api.state import get_engine

bp = Blueprint("messages", __name__)


@bp.post("/messages")
def correlate() -> tuple[dict, int]:
    """Deliver a message: 200 with the resumed instance, or 201 with the instance it started."""
    require_roles("integrator", "admin")
    body = json_body(MessageRequest)
    inst, started = get_engine().correlate(db.session, current_actor(), body["name"], body["business_key"],
                                           body["variables"])
    return {"started": started, "instance": instance_dict(inst)}, 201 if started else 200
