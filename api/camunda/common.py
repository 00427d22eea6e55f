"""What every /engine-rest blueprint shares: authentication, Camunda's `{type, message}` errors, body parsing."""

from __future__ import annotations

import json

from flask import Blueprint, Response, g, request
from werkzeug.exceptions import HTTPException

from api.camunda.auth import authenticate
from api.errors import ApiError
from api.extensions import db
from engine.errors import EngineError

_TYPES = {400: "InvalidRequestException", 401: "AuthenticationException", 403: "AuthorizationException",
          404: "InvalidRequestException", 409: "OptimisticLockingException", 422: "InvalidRequestException"}
# engine errors whose Camunda exception type differs from the one of their status
_NAMED = {"NotYourLock": "BadUserRequestException"}


def error(status: int, message: str, kind: str | None = None) -> Response:
    """A Camunda error body (422 is Camunda's 400)."""
    status = 400 if status == 422 else status
    body = {"type": kind or _TYPES.get(status, "RestException"), "message": message}
    headers = {"WWW-Authenticate": 'Basic realm="oaflow"'} if status == 401 else None
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)


def camunda_blueprint(name: str) -> Blueprint:
    """A blueprint whose requests are authenticated and whose errors are Camunda-shaped."""
    bp = Blueprint(name, __name__)

    @bp.errorhandler(EngineError)
    def _engine_error(err: EngineError) -> Response:
        db.session.rollback()
        return error(err.status, err.detail or err.title, _NAMED.get(type(err).__name__))

    @bp.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Response:
        return error(err.code or 400, err.description or err.name)

    @bp.before_request
    def _authenticate() -> None:
        authenticate()
        g.pop("actor", None)

    return bp


def body() -> dict:
    """The JSON object of the request (an empty body is {}); 400 otherwise."""
    raw = request.get_json(silent=True) if request.content_length else {}
    if raw is None or not isinstance(raw, dict):
        raise ApiError(400, "InvalidRequestException", "the body must be a JSON object")
    return raw


def text(data: dict, name: str, required: bool = False, cap: int = 255) -> str | None:
    """A string field of a body (400 naming it if missing when required, not a string, or too long)."""
    value = data.get(name)
    if value is None:
        if required:
            raise ApiError(400, "InvalidRequestException", f"{name} is required")
        return None
    if not isinstance(value, str) or len(value) > cap:
        raise ApiError(400, "InvalidRequestException", f"{name} must be a string of at most {cap} characters")
    return value


def integer(data: dict, name: str, default: int | None, low: int, high: int) -> int:
    """An integer field of a body within [low, high] (400 naming it otherwise)."""
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApiError(400, "InvalidRequestException", f"{name} must be an integer from {low} to {high}")
    return value
