"""Admin: API keys (list without secrets, create with the secret shown once, revoke; expiry and scopes) and
webhooks (list, create with the signing secret shown once, deactivate, each one's delivery log). The same
schemas, checks and functions as /api/v1/api-keys and /api/v1/webhooks. The API has no redelivery, so
neither has this page."""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from api.api_keys import MAX_KEYS_PER_USER, check_scopes, parse_expiry
from api.auth import issue_api_key
from api.errors import marshmallow_errors
from api.extensions import db
from api.http import paginate
from api.routes.api_keys import ApiKeyRequest
from api.routes.webhooks import EVENTS, WebhookRequest, duplicate_of
from api.web.admin import reveal
from api.web.admin.common import require_admin
from api.web.blueprint import bp
from api.web.common.filters import MAX_PAGE, PER_PAGE, load_filters, page_links
from api.web.common.schema_forms import errors_by_field
from api.web.common.session import user
from engine.models import Webhook, WebhookDelivery
from engine.webhook_targets import TargetRefused, check_target
from oa import admin_audit
from oa.models import ApiKey, User
from store.errors import NotFound

MAX_LIST_TEXT = 5000
# a removed webhook's URL as the pages show it: credentials masked, like the API's listing
bp.app_template_filter("masked_url")(admin_audit.redacted_url)
bp.app_template_filter("credentials_masked")(admin_audit.credentials_masked)


class PageOnly(Schema):
    """?page= of a list."""

    class Meta:
        unknown = RAISE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))


def _words(name: str) -> list[str]:
    text = (request.form.get(name) or "")[:MAX_LIST_TEXT]
    return [w for w in text.replace(",", " ").split() if w]


def _load(schema: Schema, data: dict) -> tuple[dict, dict[str, str]]:
    try:
        return schema.load(data), {}
    except ValidationError as err:
        return {}, errors_by_field(marshmallow_errors(err.messages))


# --------------------------------------------------------------------------- API keys
def _keys_page(errors: dict | None = None, values: dict | None = None, secret: str | None = None,
               status: int = 200) -> tuple[str, int]:
    args, _errors, _raw = load_filters(PageOnly())
    result = paginate(select(ApiKey).order_by(ApiKey.id.desc()), args["page"], PER_PAGE, list)
    return render_template("admin/api_keys.html", rows=result["items"],
                           paging=page_links(args["page"], result["total"]), errors=errors or {},
                           values=values or {}, secret=secret), status


def _no_store(page: tuple[str, int]) -> Response:
    """A page that may show a secret: never kept in a cache (a back button does not bring it back)."""
    resp = make_response(page)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/admin/api-keys")
def admin_api_keys() -> Response:
    """Every API key (never a secret) and the form for a new one; right after creating one, its secret, once."""
    require_admin()
    _held, secret = reveal.take("api_key")
    return _no_store(_keys_page(secret=secret))


@bp.post("/admin/api-keys")
def admin_create_api_key() -> Any:
    """Create a key for a user; its secret is on this answer only (only a hash is stored)."""
    require_admin()
    raw = {k: (request.form.get(k) or "").strip()[:MAX_LIST_TEXT] for k in ("name", "user", "scopes", "expires")}
    raw["act_as"] = "true" if request.form.get("act_as") else ""
    data: dict[str, Any] = {"name": raw["name"], "scopes": _words("scopes"), "act_as": bool(raw["act_as"]),
                            "user": raw["user"] or None, "expires": raw["expires"] or None}
    body, errors = _load(ApiKeyRequest(), data)
    owner = None
    if not errors and body["user"]:
        owner = db.session.scalar(select(User).where(User.username == body["user"]))
        if owner is None or not owner.active:
            errors["user"] = _("unknown user")
    if not errors and owner is None:
        owner = db.session.get(User, user().id)  # as the API: no user named = the caller's own key
    if not errors:
        held = db.session.scalar(select(func.count()).select_from(ApiKey).where(
            ApiKey.user_id == owner.id, ApiKey.revoked.is_(False)))
        if held >= MAX_KEYS_PER_USER:
            errors["user"] = _("too many keys; revoke some")
    if errors:
        return _keys_page(errors, raw, status=422)
    expires_at = parse_expiry(body["expires"]) if body["expires"] else None
    row, secret = issue_api_key(owner, body["name"], body["act_as"], check_scopes(body["scopes"]), expires_at)
    admin_audit.api_key_created(db.session, user().username, row)
    db.session.commit()
    reveal.keep("api_key", row.id, secret)  # shown by the page this redirects to, once (a reload re-posts nothing)
    return redirect(url_for("web.admin_api_keys"), 303)


@bp.post("/admin/api-keys/<int:key_id>/revoke")
def admin_revoke_api_key(key_id: int) -> Response:
    """Revoke a key: it stops working at once."""
    require_admin()
    row = db.session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key {key_id}")
    if not row.revoked:
        row.revoked = True
        admin_audit.api_key_revoked(db.session, user().username, row)
    db.session.commit()
    flash(_("Key revoked."), "ok")
    return redirect(url_for("web.admin_api_keys"))


# --------------------------------------------------------------------------- webhooks
def _hooks_page(errors: dict | None = None, values: dict | None = None, secret: str | None = None,
                status: int = 200) -> tuple[str, int]:
    hooks = db.session.scalars(select(Webhook).order_by(Webhook.id.desc()).limit(500)).all()
    return render_template("admin/webhooks.html", hooks=hooks, events=EVENTS, errors=errors or {},
                           values=values or {}, secret=secret), status


@bp.get("/admin/webhooks")
def admin_webhooks() -> Response:
    """Every webhook and the form for a new one; right after creating one, its signing secret, once."""
    require_admin()
    _held, secret = reveal.take("webhook")
    return _no_store(_hooks_page(secret=secret))


@bp.post("/admin/webhooks")
def admin_create_webhook() -> Any:
    """Register a webhook (the URL must pass the same target check as the API); its secret is shown once."""
    require_admin()
    raw = {"url": (request.form.get("url") or "").strip()[:2000], "events": " ".join(_words("events"))}
    body, errors = _load(WebhookRequest(), {"url": raw["url"], "events": _words("events")})
    if not errors:
        try:
            check_target(body["url"], current_app.config["OAFLOW_SETTINGS"].webhook_allow_private)
        except TargetRefused as err:
            errors["url"] = _("the webhook URL is not allowed: %(reason)s", reason=str(err))
            if err.private:
                errors["url"] += " " + _("Private addresses are allowed only when the operator sets "
                                         "OAFLOW_WEBHOOK_ALLOW_PRIVATE=1.")
    if errors:
        return _hooks_page(errors, raw, status=422)
    events = list(dict.fromkeys(body["events"]))
    twin = duplicate_of(user().username, body["url"], events)
    if twin is not None:
        return _hooks_page({"url": _("Webhook #%(id)s already sends these events to this URL.", id=twin.id)}, raw,
                           status=409)
    hook = Webhook(url=body["url"], events=events, secret=secrets.token_hex(24), created_by=user().username)
    db.session.add(hook)
    admin_audit.webhook_created(db.session, hook.created_by, hook)
    db.session.commit()
    reveal.keep("webhook", hook.id, hook.secret)
    return redirect(url_for("web.admin_webhooks"), 303)


def _hook(hook_id: int) -> Webhook:
    hook = db.session.get(Webhook, hook_id)
    if hook is None:
        raise NotFound(f"no webhook {hook_id}")
    return hook


@bp.post("/admin/webhooks/<int:hook_id>/delete")
def admin_delete_webhook(hook_id: int) -> Response:
    """Deactivate a webhook (as DELETE /api/v1/webhooks/{id} does): no more deliveries."""
    require_admin()
    hook = _hook(hook_id)
    if hook.active:
        hook.active = False
        admin_audit.webhook_deleted(db.session, user().username, hook)
    db.session.commit()
    flash(_("Webhook deactivated."), "ok")
    return redirect(url_for("web.admin_webhooks"))


@bp.get("/admin/webhooks/<int:hook_id>")
def admin_webhook(hook_id: int) -> str:
    """A webhook's delivery log, newest first: event, status, attempts, response code, error, time."""
    require_admin()
    hook = _hook(hook_id)
    args, _errors, _raw = load_filters(PageOnly())
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id).order_by(WebhookDelivery.id.desc())
    result = paginate(query, args["page"], PER_PAGE, list)
    return render_template("admin/webhook.html", hook=hook, rows=result["items"], total=result["total"],
                           paging=page_links(args["page"], result["total"]))
