"""Webhooks for integrators: register a URL for engine events; deliveries are signed with a shared secret.

Events are the built-in ones or a flow's own (`webhook.post` with a name such as `expense.paid`). The URL
must reach a public address unless the operator allows private ones (OAFLOW_WEBHOOK_ALLOW_PRIVATE=1; a refusal
says so). An owner's second active webhook with the same URL and events is refused (409 naming `url`).
"""

from __future__ import annotations

import secrets

from flask import Blueprint, current_app
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import select

from api.auth import current_user, require_roles
from api.errors import ApiError
from api.extensions import db
from api.http import json_body, paginate, query_args
from api.schemas import PageArgs
from crm.events import EVENTS as RECORD_EVENTS
from engine.models import Webhook, WebhookDelivery
from engine.webhook_targets import TargetRefused, check_target
from engine.webhooks import EVENT_NAME, valid_event_name
from oa import admin_audit
from store.errors import NotFound

EVENTS = ["task.created", "instance.completed", "instance.cancelled", "instance.error", "instance.withdrawn",
          "notification", "expense.paid", *RECORD_EVENTS]  # built in; flows may post others


def _event_name(value: str) -> None:
    if not valid_event_name(value):
        raise ValidationError(f"Must be one of {', '.join(EVENTS)} or a name matching {EVENT_NAME.pattern}.")

bp = Blueprint("webhooks", __name__)
# said with a refusal for a private, loopback or otherwise non-public address: the operator's switch
PRIVATE_HINT = "private addresses are allowed only when the operator sets OAFLOW_WEBHOOK_ALLOW_PRIVATE=1"


def refusal_reason(err: TargetRefused) -> str:
    """Why a URL was refused, naming the operator's setting when only the address kind refused it."""
    return f"{err}; {PRIVATE_HINT}" if err.private else str(err)


def duplicate_of(owner: str, url: str, events: list[str]) -> Webhook | None:
    """`owner`'s active webhook that already sends the same events (in any order) to the same URL, if any."""
    wanted = sorted(set(events))
    for hook in db.session.scalars(select(Webhook).where(Webhook.created_by == owner, Webhook.url == url,
                                                         Webhook.active.is_(True))):
        if sorted(set(hook.events or [])) == wanted:
            return hook
    return None


class WebhookRequest(Schema):
    class Meta:
        unknown = RAISE

    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                     validate=validate.Length(max=1000))
    events = fields.List(fields.String(validate=_event_name), load_default=list, validate=validate.Length(max=50))


def _out(hook: Webhook) -> dict:
    """A webhook as listed: its URL without a password or query values (a token there opens the receiver; the
    owner had it when registering), and a removed one with only scheme, host and first path segment."""
    url = admin_audit.credentials_masked(hook.url) if hook.active else admin_audit.redacted_url(hook.url)
    return {"id": hook.id, "url": url, "events": hook.events, "active": hook.active,
            "created_by": hook.created_by, "created_at": hook.created_at.isoformat()}


@bp.post("/webhooks")
def create() -> tuple[dict, int]:
    """Register a webhook; the signing secret is returned once."""
    require_roles("integrator", "admin")
    body = json_body(WebhookRequest)
    try:
        check_target(body["url"], current_app.config["OAFLOW_SETTINGS"].webhook_allow_private)
    except TargetRefused as err:
        reason = refusal_reason(err)
        raise ApiError(422, "Validation failed", f"the webhook URL is not allowed: {reason}",
                       [{"field": "url", "message": reason}]) from err
    events = list(dict.fromkeys(body["events"]))
    twin = duplicate_of(current_user().username, body["url"], events)
    if twin is not None:
        message = f"webhook {twin.id} already sends these events to this URL"
        raise ApiError(409, "Conflict", message, [{"field": "url", "message": message}])
    hook = Webhook(url=body["url"], events=events, secret=secrets.token_hex(24), created_by=current_user().username)
    db.session.add(hook)
    admin_audit.webhook_created(db.session, hook.created_by, hook)
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


def _own_hook(hook_id: int) -> Webhook:
    """The webhook `hook_id` if the caller owns it or is an admin; 404 otherwise."""
    user = current_user()
    hook = db.session.get(Webhook, hook_id)
    if hook is None or (hook.created_by != user.username and not user.has_role("admin")):
        raise NotFound(f"no webhook {hook_id}")
    return hook


def _delivery_out(row: WebhookDelivery) -> dict:
    return {"id": row.id, "event": row.event, "status": row.status, "attempts": row.attempts,
            "last_response_code": row.last_response_code, "last_error": row.last_error,
            "next_retry_at": row.next_attempt_at.isoformat() if row.status == "pending" else None,
            "created_at": row.created_at.isoformat()}


@bp.get("/webhooks/<int:hook_id>/deliveries")
def deliveries(hook_id: int) -> dict:
    """The delivery log of one of your webhooks (admins: any), newest first."""
    require_roles("integrator", "admin")
    hook = _own_hook(hook_id)
    args = query_args(PageArgs)
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id).order_by(WebhookDelivery.id.desc())
    return paginate(query, args["page"], args["per_page"], lambda rows: [_delivery_out(r) for r in rows])


@bp.delete("/webhooks/<int:hook_id>")
def delete(hook_id: int) -> tuple[str, int]:
    """Deactivate one of your webhooks."""
    require_roles("integrator", "admin")
    hook = _own_hook(hook_id)
    if hook.active:
        hook.active = False
        admin_audit.webhook_deleted(db.session, current_user().username, hook)
    db.session.commit()
    return "", 204
