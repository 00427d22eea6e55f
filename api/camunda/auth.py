"""Who is asking /engine-rest: HTTP Basic (user + password, or user + API key) or a Bearer token / API key."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time

from flask import current_app, g, request

from api.auth import current_principal, password_login
from api.errors import ApiError
from api.extensions import db
from api.principals import API_KEY_PREFIX, PRINCIPALS, Principal, principal_from_api_key, principal_of, read_principal
from api.throttle import TooManyAttempts

MAX_CREDENTIAL = 1024
# A Camunda client sends its Basic credentials with every call: a password verified once is remembered for a
# minute (by a keyed hash, never in clear) so the calls neither pay the password hash nor count as logins.
# The user's token version is remembered with it: deactivating the user or revoking their tokens ends it at once.
VERIFIED_TTL = 60.0
_MAX_VERIFIED = 10_000
_verified: dict[str, tuple[int, int, float]] = {}
_lock = threading.Lock()


def _fingerprint(username: str, password: str) -> str:
    key = str(current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(key, f"{username}\0{password}".encode(), hashlib.sha256).hexdigest()


def _remembered(fingerprint: str) -> Principal | None:
    with _lock:
        found = _verified.get(fingerprint)
    if found is None or found[2] < time.monotonic():
        return None
    uid, version, _ = found
    return PRINCIPALS.get(db.session, (uid, version), lambda: read_principal(uid, version))


def _remember(fingerprint: str, uid: int, version: int) -> None:
    now = time.monotonic()
    with _lock:
        if len(_verified) >= _MAX_VERIFIED:
            for stale in [k for k, v in _verified.items() if v[2] < now] or list(_verified)[: _MAX_VERIFIED // 2]:
                _verified.pop(stale, None)
        _verified[fingerprint] = (uid, version, now + VERIFIED_TTL)


def _basic(raw: str) -> Principal | None:
    try:
        decoded = base64.b64decode(raw.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    username, sep, secret = decoded.partition(":")
    if not sep or not username or not secret or len(username) > 100:
        return None
    if secret.startswith(API_KEY_PREFIX):
        principal = principal_from_api_key(secret)
        return principal if principal is not None and principal.username == username else None
    fingerprint = _fingerprint(username, secret)
    principal = _remembered(fingerprint)
    if principal is not None and principal.username == username:
        return principal
    try:
        user = password_login(username, secret)
    except TooManyAttempts as err:
        raise ApiError(429, "RestException", f"too many failed logins; retry in {err.retry_after} s") from None
    if user is None:
        return None
    _remember(fingerprint, user.id, user.token_version)
    return principal_of(user)


def authenticate() -> Principal:
    """The caller (401 without valid credentials); Basic is checked here, Bearer by api.auth."""
    header = request.headers.get("Authorization", "")
    if len(header) > MAX_CREDENTIAL:
        raise ApiError(401, "AuthenticationException", "credentials too long")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() == "basic":
        principal = _basic(raw)
        if principal is None:
            raise ApiError(401, "AuthenticationException", "the user name and password or API key are not valid")
        if principal.scopes:  # a scoped key is meant for the paths its scopes name, not for /engine-rest
            raise ApiError(403, "AuthorizationException", "a scoped API key may not use /engine-rest")
        g.principal = principal
        return principal
    principal = current_principal()
    if principal.scopes:
        raise ApiError(403, "AuthorizationException", "a scoped API key may not use /engine-rest")
    return principal
