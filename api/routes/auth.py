"""POST /auth/token: password login for an expiring bearer token, rate limited, with per-client lockout;
POST /users/{name}/unlock: an admin clears an account's lockouts.

Rate limits (api.throttle): OAFLOW_LOGIN_RATE per client address + username (default 10/minute) and
OAFLOW_AUTH_FAIL_RATE failures per client address (default 30/minute); a breach is a 429 problem+json
with Retry-After. Lockout (oa.lockout): OAFLOW_LOGIN_LOCKOUT_THRESHOLD failures (default 10; 0 disables)
from one client address lock that client — only that one — out of the account for
OAFLOW_LOGIN_LOCKOUT_MINUTES (default 15). A locked client gets the same 401 as a wrong password, so
lockout does not reveal which usernames exist.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response
from sqlalchemy import select

from api.auth import current_principal, issue_token, password_login, require_roles
from api.errors import ApiError, problem
from api.extensions import db
from api.http import json_body
from api.schemas import TokenRequest
from api.throttle import TooManyAttempts, client_ip
from oa.lockout import unlock
from oa.models import User

bp = Blueprint("auth", __name__)
log = logging.getLogger("oaflow.auth")
FAILED = "wrong username or password"  # also for a locked client: no hint which accounts exist


def too_many(err: TooManyAttempts) -> Response:
    """The 429 problem for a spent login limit."""
    log.warning("login rate limit hit from %s", client_ip(), extra={"status": 429, "ip": client_ip()})
    return problem(429, "Too many requests", f"too many login attempts; retry in {err.retry_after} s",
                   headers={"Retry-After": str(err.retry_after)})


@bp.post("/auth/token")
def token() -> tuple[dict, int] | Response:
    """Exchange username and password for a bearer token."""
    body = json_body(TokenRequest)
    try:
        user = password_login(body["username"], body["password"])
    except TooManyAttempts as err:
        return too_many(err)
    if user is None:
        raise ApiError(401, "Unauthorized", FAILED)
    access_token, ttl = issue_token(user)
    return {"access_token": access_token, "token_type": "Bearer", "expires_in": ttl}, 200


@bp.post("/users/<name>/unlock")
def unlock_user(name: str) -> dict:
    """Admin only: clear every login lockout and failure count of user `name`."""
    require_roles("admin")
    admin = current_principal().username
    account = db.session.scalar(select(User).where(User.username == name[:100]))
    if account is None:
        raise ApiError(404, "Not found", f"no user {name[:100]!r}")
    cleared = unlock(db.session, account.username, by=admin)
    db.session.commit()
    return {"username": account.username, "cleared": cleared}
