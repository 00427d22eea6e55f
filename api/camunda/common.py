"""What every /engine-rest blueprint shares: authentication, Camunda's `{type, message}` errors, body parsing."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, g, request
from sqlalchemy.exc import DataError, OperationalError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from api.camunda.auth import authenticate
from api.errors import ApiError, ServiceBusy, database_error_seen
from api.extensions import db
from engine.errors import EngineError
from forms.text import MESSAGE as TEXT_RULE
from forms.text import unstorable

log = logging.getLogger("oaflow.api")
_TYPES = {400: "InvalidRequestException", 401: "AuthenticationException", 403: "AuthorizationException",
          404: "InvalidRequestException", 409: "OptimisticLockingException", 422: "InvalidRequestException"}
# engine errors whose Camunda exception type differs from the one of their status
_NAMED = {"NotYourLock": "BadUserRequestException", "MaxResultsExceeded": "BadUserRequestException"}


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
        resp = error(err.status, err.detail or err.title, _NAMED.get(type(err).__name__))
        if isinstance(err, ServiceBusy):
            resp.headers["Retry-After"] = err.retry_after
        return resp

    @bp.errorhandler(OperationalError)
    @bp.errorhandler(PoolTimeout)
    def _database_error(err: Exception) -> Response:
        busy = database_error_seen(err)
        resp = error(503, busy.detail)
        resp.headers["Retry-After"] = busy.retry_after
        return resp

    @bp.errorhandler(DataError)
    @bp.errorhandler(OverflowError)
    def _unstorable(err: Exception) -> Response:  # a value the database refuses (PostgreSQL: a NUL, a huge int)
        db.session.rollback()
        return error(400, "a value in the request is out of range or cannot be stored")

    @bp.errorhandler(StatementError)
    def _statement_error(err: StatementError) -> Response:
        if isinstance(err.orig, OverflowError | ValueError):
            return _unstorable(err)
        db.session.rollback()
        log.exception("unhandled database error on %s %s", request.method, request.path)
        return error(500, "an unexpected error occurred; it has been logged")

    @bp.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Response:
        return error(err.code or 400, err.description or err.name)

    @bp.before_request
    def _authenticate() -> None:
        authenticate()
        g.pop("actor", None)
        refuse_unstorable(request.view_args or {})  # an id or key in the path (`/task/a%00b`), named

    return bp


def body() -> dict:
    """The JSON object of the request (an empty body is {}); 400 otherwise."""
    try:
        raw = request.get_json(silent=True) if request.content_length else {}
    except RecursionError:  # json gives up on very deep nesting before any cap of ours could look
        raise ApiError(400, "InvalidRequestException", "the body is nested too deeply") from None
    if raw is None or not isinstance(raw, dict):
        raise ApiError(400, "InvalidRequestException", "the body must be a JSON object")
    refuse_unstorable(raw)
    return raw


def refuse_unstorable(value: Any, path: str = "") -> None:
    """400 naming the first field (`variables.reason.value`, `businessKey`) whose text no database can store:
    the rule /api/v1 holds (forms.text), for variable values at any depth, names, business keys and comments."""
    found = unstorable(value, path, ".")
    if found is not None:
        field, why = found
        raise ApiError(400, "InvalidRequestException", f"{field}: {why} ({TEXT_RULE})",
                       [{"field": field, "message": why}])


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
