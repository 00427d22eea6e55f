"""POST /auth/token: password login for an expiring bearer token."""

from __future__ import annotations

import logging

from flask import Blueprint

from api.auth import authenticate, issue_token
from api.errors import ApiError
from api.http import json_body
from api.schemas import TokenRequest

bp = Blueprint("auth", __name__)
log = logging.getLogger("oaflow.auth")


@bp.post("/auth/token")
def token() -> tuple[dict, int]:
    """Exchange username and password for a bearer token."""
    body = json_body(TokenRequest())
    user = authenticate(body["username"], body["password"])
    if user is None:
        log.warning("failed login for %r", body["username"][:100])
        raise ApiError(401, "Unauthorized", "wrong username or password")
    access_token, ttl = issue_token(user)
    return {"access_token": access_token, "token_type": "Bearer", "expires_in": ttl}, 200
