"""Authentication: password login to expiring bearer tokens, hashed API keys, and role checks."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from api.errors import ApiError
from api.extensions import db
from engine.runtime import Actor
from oa.models import ApiKey, User
from store.base import utcnow

API_KEY_PREFIX = "oak_"
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    """A salted scrypt hash (werkzeug)."""
    return generate_password_hash(password)


def authenticate(username: str, password: str) -> User | None:
    """The active user with this password, or None (constant work whether or not the user exists)."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.password_hash or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="oaflow-access-token")


def issue_token(user: User) -> tuple[str, int]:
    """A signed bearer token for `user` and its lifetime in seconds."""
    ttl = int(current_app.config["OAFLOW_TOKEN_TTL"])
    return _serializer().dumps({"uid": user.id, "tv": user.token_version}), ttl


def create_api_key(user: User, name: str) -> str:
    """Create an API key for a service account; returns the secret, which is never stored."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = f"{API_KEY_PREFIX}{prefix}_{secret}"
    db.session.add(ApiKey(name=name, prefix=prefix, key_hash=hashlib.sha256(key.encode()).hexdigest(),
                          user_id=user.id))
    return key


def _user_from_api_key(raw: str) -> User | None:
    parts = raw[len(API_KEY_PREFIX):].split("_", 1)
    if len(parts) != 2:
        return None
    row = db.session.scalar(select(ApiKey).where(ApiKey.prefix == parts[0]))
    if row is None or row.revoked or (row.expires_at and row.expires_at < utcnow()):
        return None
    if not hmac.compare_digest(row.key_hash, hashlib.sha256(raw.encode()).hexdigest()):
        return None
    return row.user if row.user.active else None


def _user_from_token(raw: str) -> User | None:
    try:
        payload = _serializer().loads(raw, max_age=int(current_app.config["OAFLOW_TOKEN_TTL"]))
    except SignatureExpired as err:
        raise ApiError(401, "Unauthorized", "the access token has expired; log in again") from err
    except BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    uid = payload.get("uid")
    user = db.session.get(User, uid, options=[joinedload(User.groups)]) if isinstance(uid, int) else None
    if user is None or not user.active or user.token_version != payload.get("tv"):
        return None
    return user


def current_user() -> User:
    """The authenticated user of this request; 401 if there is none."""
    if "user" in g:
        return g.user
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise ApiError(401, "Unauthorized", "send 'Authorization: Bearer <token or API key>'")
    raw = raw.strip()
    user = _user_from_api_key(raw) if raw.startswith(API_KEY_PREFIX) else _user_from_token(raw)
    if user is None:
        raise ApiError(401, "Unauthorized", "the token or API key is not valid")
    g.user = user
    return user


def actor_of(user: User) -> Actor:
    """The engine's view of a user: name, roles and groups."""
    return Actor(user.username, frozenset(user.roles or []), frozenset(gr.name for gr in user.groups))


def current_actor() -> Actor:
    """The engine actor of the authenticated user."""
    if "actor" not in g:
        g.actor = actor_of(current_user())
    return g.actor


def require_roles(*roles: str) -> None:
    """403 unless the current user holds one of `roles`."""
    user = current_user()
    if not user.has_role(*roles):
        raise ApiError(403, "Forbidden", f"this needs one of the roles: {', '.join(roles)}")


def login_required(func: Callable[..., Any]) -> Callable[..., Any]:
    """Route decorator: 401 without valid credentials."""
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_user()
        return func(*args, **kwargs)
    return wrapper
