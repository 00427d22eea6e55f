"""Webhooks for integrators: register a URL for engine events; deliveries are signed with a shared secret."""

from __future__ import annotations

import secrets

from flask import Blueprint
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import select

from api.auth import current_user, require_roles
from api.extensions import db
from api.http import json_body
from engine.models import Webhook
from store.errors import NotFound

EVENTS = ["task.created", "instance.completed", "instance.cancelled", "instance.error", "instance.withdrawn",
          "notification", "expense.paid"]

bp = Blueprint("webhooks", __name__)


class WebhookRequest(Schema):
    class Meta:
        unknown = RAISE

    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                     validate=validate.Length(max=1000))
    events = fields.List(fields.String(validate=validate.OneOf(EVENTS)), load_default=list)


def _out(hook: Webhook) -> dict:
    return {"id": hook.id, "url": hook.url, "events": hook.events, "active": hook.active,
            "created_by": hook.created_by, "created_at": hook.created_at.isoformat()}


@bp.post("/webhooks")
def create() -> tuple[dict, int]:
    """Register a webhook; the signing secret is returned once."""
    require_roles("integrator", "admin")
    body = json_body(WebhookRequest)
    hook = Webhook(url=body["url"], events=body["events"], secret=secrets.token_hex(24),
                   created_by=current_user().username)
    db.session.add(hook)
    db.session.commit()
    return {**_out(hook), "secret": hook.secret}, 201


@bp.get("/webhooks")
def list_hooks() -> dict:
    """Your webhooks (admins see all)."""
    require_roles("integrator", "admin")
    user = current_user()
    query = select(Webhook).order_by(Webhook.id)
    if not user.has_role("admin"):
        query = query.where(Webhook.created_by == user.username)
    items = [_out(h) for h in db.session.scalars(query)]
    return {"items": items, "total": len(items)}


@bp.delete("/webhooks/<int:hook_id>")
def delete(hook_id: int) -> tuple[str, int]:
    """Deactivate one of your webhooks."""
    require_roles("integrator", "admin")
    user = current_user()
    hook = db.session.get(Webhook, hook_id)
    if hook is None or (hook.created_by != user.username and not user.has_role("admin")):
        raise NotFound(f"no webhook {hook_id}")
    hook.active = False
    db.session.commit()
    return "", 204
