"""API keys over HTTP: list, create (the secret is shown once) and revoke. Admins manage every key (and may
create one for another user or with act-as); a user manages their own."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from sqlalchemy import func, select

from api.api_keys import MAX_KEYS_PER_USER, check_scopes, key_out, parse_expiry
from api.auth import current_principal, current_user, issue_api_key, login_required
from api.errors import ApiError
from api.extensions import db
from api.http import json_body, paginate, query_args
from api.schemas import PageArgs
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
    row, secret = issue_api_key(owner, body["name"], body["act_as"], check_scopes(body["scopes"]), expires_at)
    db.session.commit()
    return {**key_out(row), "key": secret}, 201


@bp.delete("/api-keys/<int:key_id>")
@login_required
def revoke(key_id: int) -> tuple[str, int]:
    """Revoke an API key (yours, or any for an admin): it stops working at once."""
    row = db.session.get(ApiKey, key_id)
    if row is None or (row.user_id != current_principal().id and not _is_admin()):
        raise NotFound(f"no API key {key_id}")
    row.revoked = True
    db.session.commit()
    return "", 204
