"""Authentication: password login to expiring bearer tokens, hashed API keys, and role checks."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from flask import abort, current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from api.errors import ApiError, problem
from api.extensions import db
from api.key_scopes import allows, explain
from api.principals import (  # noqa: F401  (Principal, PRINCIPALS, API_KEY_PREFIX: re-exported)
    API_KEY_PREFIX,
    PRINCIPALS,
    Principal,
    principal_from_api_key,
    read_principal,
)
from api.throttle import TooManyAttempts, check_failed_credential, check_password_attempt, client_ip, record_failure
from engine.runtime import Actor
from oa.lockout import register_attempt
from oa.models import ApiKey, User

log = logging.getLogger("oaflow.auth")
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


def password_login(username: str, password: str) -> User | None:
    """Check a password under the rate limits and the lockout: the user, or None (TooManyAttempts when
    this client may not try now). Every password check of oaflow goes through here. Commits the count."""
    check_password_attempt(username)
    user = authenticate(username, password)
    outcome = register_attempt(db.session, username, user, current_app.config["OAFLOW_LOCKOUT"],
                               client=client_ip())
    db.session.commit()
    if outcome.user is None:
        record_failure()
        log.warning("failed login for %r from %s%s", username[:100], client_ip(),
                    " (client locked out)" if outcome.locked_until else "",
                    extra={"user": username[:100], "ip": client_ip()})
    return outcome.user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="oaflow-access-token")


def issue_token(user: User) -> tuple[str, int]:
    """A signed bearer token for `user` and its lifetime in seconds."""
    ttl = int(current_app.config["OAFLOW_TOKEN_TTL"])
    return _serializer().dumps({"uid": user.id, "tv": user.token_version}), ttl


PAGE_TOKEN_TTL = 15 * 60  # a token embedded in a web page: the page needs it while it is being looked at


def issue_page_token(user: User) -> str:
    """A short-lived bearer token for a web page of `user`'s session: it carries the session epoch, so
    it stops working at web logout (which moves the epoch on), and it expires after PAGE_TOKEN_TTL."""
    return _serializer().dumps({"uid": user.id, "tv": user.token_version, "se": user.session_epoch})


def create_api_key(user: User, name: str, act_as: bool = False, scopes: list[str] | None = None,
                   expires_at: datetime | None = None) -> str:
    """Create an API key for `user`; returns the secret, which is never stored (only its SHA-256).

    With `act_as` the key may start flows on behalf of a named employee (`started_by`); with `scopes`
    it may do only what they allow (api.key_scopes); past `expires_at` it is refused.
    """
    return issue_api_key(user, name, act_as, scopes, expires_at)[1]


def issue_api_key(user: User, name: str, act_as: bool = False, scopes: list[str] | None = None,
                  expires_at: datetime | None = None, created_by_key_id: int | None = None) -> tuple[ApiKey, str]:
    """Like create_api_key, also returning the (unflushed) row; `created_by_key_id` names the API key that
    asked for it (None for a password or session)."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = f"{API_KEY_PREFIX}{prefix}_{secret}"
    row = ApiKey(name=name, prefix=prefix, key_hash=hashlib.sha256(key.encode()).hexdigest(),
                 user_id=user.id, act_as=act_as, scopes=list(dict.fromkeys(scopes or [])), expires_at=expires_at,
                 created_by_key_id=created_by_key_id)
    db.session.add(row)
    return row, key


def _principal_from_token(raw: str) -> Principal | None:
    ttl = int(current_app.config["OAFLOW_TOKEN_TTL"])
    try:
        payload, signed_at = _serializer().loads(raw, max_age=ttl, return_timestamp=True)
    except SignatureExpired as err:
        raise ApiError(401, "Unauthorized", "the access token has expired; log in again") from err
    except BadSignature:
        return None
    uid = payload.get("uid") if isinstance(payload, dict) else None
    if not isinstance(uid, int) or isinstance(uid, bool):
        return None
    version, epoch = payload.get("tv"), payload.get("se")
    if epoch is not None:  # a web page's token: shorter-lived, and tied to the web session
        if not isinstance(epoch, int) or isinstance(epoch, bool):
            return None
        if time.time() - signed_at.timestamp() > min(ttl, PAGE_TOKEN_TTL):
            raise ApiError(401, "Unauthorized", "the page's access token has expired; reload the page")
        return PRINCIPALS.get(db.session, (uid, version, epoch), lambda: read_principal(uid, version, epoch))
    return PRINCIPALS.get(db.session, (uid, version), lambda: read_principal(uid, version))


def _count_failed_credential() -> None:
    """Count an invalid token or API key against the client: 429 once it is over its failure limit."""
    try:
        check_failed_credential()
    except TooManyAttempts as err:
        abort(problem(429, "Too many requests", f"too many invalid credentials; retry in {err.retry_after} s",
                      headers={"Retry-After": str(err.retry_after)}))


def current_principal() -> Principal:
    """Who is asking (401 without valid credentials): a bearer token or an integrator's API key."""
    if "principal" in g:
        return g.principal
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise ApiError(401, "Unauthorized", "send 'Authorization: Bearer <token or API key>'")
    raw = raw.strip()
    principal = None
    if raw.startswith(API_KEY_PREFIX):
        principal = principal_from_api_key(raw)
    else:
        principal = _principal_from_token(raw)
    if principal is None:
        _count_failed_credential()
        raise ApiError(401, "Unauthorized", "the token or API key is not valid")
    if principal.scopes and not allows(principal.scopes, request.method, request.blueprint, request.endpoint,
                                       request.view_args):
        raise ApiError(403, "Forbidden", f"this API key's scopes do not allow this request "
                                         f"(it has: {explain(principal.scopes)})")
    g.principal = principal
    return principal


def current_user() -> User:
    """The authenticated user of this request as a database object; 401 if there is none."""
    if "user" not in g:
        principal = current_principal()
        g.user = db.session.get(User, principal.id)
    return g.user


def actor_of(user: User) -> Actor:
    """The engine's view of a user: name, roles and groups."""
    return Actor(user.username, frozenset(user.roles or []), frozenset(gr.name for gr in user.groups))


def current_actor() -> Actor:
    """The engine actor of the authenticated user."""
    if "actor" not in g:
        principal = current_principal()
        g.actor = Actor(principal.username, principal.roles, principal.groups)
    return g.actor


def require_roles(*roles: str) -> None:
    """403 unless the current user holds one of `roles`."""
    if not current_principal().has_role(*roles):
        raise ApiError(403, "Forbidden", f"this needs one of the roles: {', '.join(roles)}")


def login_required(func: Callable[..., Any]) -> Callable[..., Any]:
    """Route decorator: 401 without valid credentials."""
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_principal()
        return func(*args, **kwargs)
    return wrapper
