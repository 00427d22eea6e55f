"""POST /auth/token: password login for an expiring bearer token, rate limited and with account lockout.

Rate limit (Flask-Limiter): OAFLOW_LOGIN_RATE per client IP + username (default 10/minute), counted in
OAFLOW_RATELIMIT_STORAGE (default memory://, i.e. per worker process; point it at redis:// to share
counts between workers and hosts). A breach is a 429 problem+json with Retry-After.
Lockout (oa.lockout): OAFLOW_LOGIN_LOCKOUT_THRESHOLD consecutive failures (default 10; 0 disables)
lock the account for OAFLOW_LOGIN_LOCKOUT_MINUTES (default 15). A locked account gets the same 401
as a wrong password, so lockout does not reveal which usernames exist.
"""

from __future__ import annotations

import logging
import math
import os
import time

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from flask_limiter import Limiter, RequestLimit

from api.auth import authenticate, issue_token
from api.errors import ApiError, problem
from api.extensions import db
from api.http import json_body
from api.schemas import TokenRequest
from oa.lockout import LockoutPolicy, register_attempt

bp = Blueprint("auth", __name__)
log = logging.getLogger("oaflow.auth")
FAILED = "wrong username or password"  # also for a locked account: no hint which accounts exist


def _client_ip() -> str:
    return request.remote_addr or "unknown"


def _login_key() -> str:
    """Rate-limit bucket: client IP + the username being tried (case-folded, bounded)."""
    body = request.get_json(silent=True, cache=True)
    username = body.get("username") if isinstance(body, dict) else None
    return f"login:{_client_ip()}:{str(username or '')[:100].casefold()}"


def _login_rate() -> str:
    return current_app.config["OAFLOW_LOGIN_RATE"]


def _too_many(limit: RequestLimit) -> Response:
    retry = max(1, math.ceil(limit.reset_at - time.time()))
    log.warning("login rate limit hit for %s", limit.key, extra={"status": 429})
    return problem(429, "Too many requests", f"too many login attempts; retry in {retry} s",
                   headers={"Retry-After": str(retry)})


limiter = Limiter(key_func=_login_key, default_limits=[], on_breach=_too_many,
                  storage_uri=os.environ.get("OAFLOW_RATELIMIT_STORAGE", "memory://"), strategy="moving-window")


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    """Per app: login limits from the environment (tests may override the app config) and the limiter."""
    config = state.app.config
    config.setdefault("OAFLOW_LOGIN_RATE", os.environ.get("OAFLOW_LOGIN_RATE", "10/minute"))
    config.setdefault("OAFLOW_LOCKOUT", LockoutPolicy(
        threshold=int(os.environ.get("OAFLOW_LOGIN_LOCKOUT_THRESHOLD", "10")),
        minutes=float(os.environ.get("OAFLOW_LOGIN_LOCKOUT_MINUTES", "15"))))
    limiter.init_app(state.app)


@bp.post("/auth/token")
@limiter.limit(_login_rate, key_func=_login_key)
def token() -> tuple[dict, int]:
    """Exchange username and password for a bearer token."""
    body = json_body(TokenRequest)
    user = authenticate(body["username"], body["password"])
    outcome = register_attempt(db.session, body["username"], user, current_app.config["OAFLOW_LOCKOUT"],
                               ip=_client_ip())
    db.session.commit()
    if outcome.user is None:
        log.warning("failed login for %r%s", body["username"][:100], " (account locked)" if outcome.locked_until
                    else "", extra={"user": body["username"][:100]})
        raise ApiError(401, "Unauthorized", FAILED)
    access_token, ttl = issue_token(outcome.user)
    return {"access_token": access_token, "token_type": "Bearer", "expires_in": ttl}, 200
