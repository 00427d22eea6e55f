"""API keys over HTTP: list, create (the secret is shown once) and revoke. Admins manage every key (and may
create one for another user or with act-as); a user manages their own.

A request made with an API key (an admin's too) is held to that key: the keys it creates expire no later
than it does, have no wider scopes and act as employees only if it does; it revokes only itself and the
keys it created. A password or web session is not restricted this way."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import func, select

from api.api_keys import MAX_KEYS_PER_USER, check_scopes, key_out, parse_expiry
from api.auth import Principal, current_principal, current_user, issue_api_key, login_required
from api.errors import ApiError
from api.extensions import db
from api.http import json_body, paginate, query_args
from api.key_scopes import explain, within
from api.schemas import PageArgs
from oa import admin_audit
from oa.models import ApiKey, User
from store.errors import NotFound

bp = Blueprint("api_keys", __name__)


def _scopes(value: list[str]) -> None:
    try:
        check_scopes(value)
    except ValueError as err:
        raise ValidationError(str(err)) from err


def _expiry(value: str) -> None:
    try:
        parse_expiry(value)
    except ValueError as err:
        raise ValidationError(str(err)) from err


class ApiKeyRequest(Schema):
    """A new API key: its name, scopes (none = everything its user may do), lifetime, act-as (admins only)."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    scopes = fields.List(fields.String(validate=validate.Length(max=120)), load_default=list,
                         validate=[validate.Length(max=50), _scopes])
    expires = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=20), _expiry])
    act_as = fields.Boolean(load_default=False)
    user = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


def _is_admin() -> bool:
    return current_principal().has_role("admin")


@bp.get("/api-keys")
@login_required
def list_keys() -> dict:
    """Your API keys (admins see all); never a secret."""
    args = query_args(PageArgs)
    query = select(ApiKey).order_by(ApiKey.id)
    if not _is_admin():
        query = query.where(ApiKey.user_id == current_principal().id)
    return paginate(query, args["page"], args["per_page"], lambda rows: [key_out(r) for r in rows])


@bp.post("/api-keys")
@login_required
def create() -> tuple[dict, int]:
    """Create an API key; its secret is in the answer once and never again (only a hash is stored)."""
    body = json_body(ApiKeyRequest)
    owner = current_user()
    if body["user"] is not None and body["user"] != owner.username:
        if not _is_admin():
            raise ApiError(403, "Forbidden", "only an admin may create a key for another user")
        owner = db.session.scalar(select(User).where(User.username == body["user"]))
        if owner is None or not owner.active:
            raise ApiError(422, "Validation failed", "no such active user",
                           [{"field": "user", "message": "unknown user"}])
    if body["act_as"] and not _is_admin():
        raise ApiError(403, "Forbidden", "only an admin may create a key that acts on behalf of employees")
    held = db.session.scalar(select(func.count()).select_from(ApiKey).where(
        ApiKey.user_id == owner.id, ApiKey.revoked.is_(False)))
    if held >= MAX_KEYS_PER_USER:
        raise ApiError(422, "Validation failed", f"a user may hold at most {MAX_KEYS_PER_USER} active keys",
                       [{"field": "user", "message": "too many keys; revoke some"}])
    expires_at = parse_expiry(body["expires"]) if body["expires"] else None
    scopes = check_scopes(body["scopes"])
    principal = current_principal()
    if principal.key_id is not None:
        _held_to_the_key(principal, scopes, expires_at, body["act_as"])
    row, secret = issue_api_key(owner, body["name"], body["act_as"], scopes, expires_at, principal.key_id)
    admin_audit.api_key_created(db.session, principal.username, row)
    db.session.commit()
    return {**key_out(row), "key": secret}, 201


def _held_to_the_key(principal: Principal, scopes: list[str], expires_at: datetime | None, act_as: bool) -> None:
    """422/403 unless a key created with `principal`'s API key is no stronger than that key."""
    limit = principal.key_expires_at
    if limit is not None and (expires_at is None or expires_at > limit):
        raise ApiError(422, "Validation failed", "a key may not outlive the API key that creates it",
                       [{"field": "expires", "message": f"must end by {limit.isoformat()}Z (this key's expiry)"}])
    if not within(scopes, principal.scopes):
        raise ApiError(422, "Validation failed", "a key may not have wider scopes than the API key that creates it",
                       [{"field": "scopes", "message": f"must be within {explain(principal.scopes)}"}])
    if act_as and not principal.act_as:
        raise ApiError(403, "Forbidden", "only a key that acts on behalf of employees may create one that does")


@bp.delete("/api-keys/<int:key_id>")
@login_required
def revoke(key_id: int) -> tuple[str, int]:
    """Revoke an API key (yours, or any for an admin; with an API key: itself or one it created): it stops
    working at once."""
    row = db.session.get(ApiKey, key_id)
    principal = current_principal()
    if row is None or (row.user_id != principal.id and not _is_admin()):
        raise NotFound(f"no API key {key_id}")
    if principal.key_id is not None and principal.key_id not in (row.id, row.created_by_key_id):
        raise ApiError(403, "Forbidden", "an API key may revoke only itself and the keys it created")
    if not row.revoked:
        row.revoked = True
        admin_audit.api_key_revoked(db.session, principal.username, row)
    db.session.commit()
    return "", 204
