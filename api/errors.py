"""problem+json (RFC 9457) responses for every error, so no client mistake becomes a 500."""

from __future__ import annotations

import logging

from flask import Flask, Response, json, request
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, OperationalError, PendingRollbackError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from engine.errors import EngineError

log = logging.getLogger("oaflow.api")


class ApiError(EngineError):
    """An error raised by the API layer itself, with any status."""

    def __init__(self, status: int, title: str, detail: str, errors: list[dict] | None = None) -> None:
        super().__init__(detail, errors=errors)
        self.status = status
        self.title = title


class ServiceBusy(ApiError):
    """503 with `Retry-After`: the database is busy (SQLite's write queue) or away; the client retries shortly.
    Raised rather than returned, so each part of the site answers it in its own shape (problem+json, an HTML
    page, Camunda's `{type, message}`)."""

    retry_after = "2"

    def __init__(self, detail: str) -> None:
        super().__init__(503, "Service unavailable", detail)


def database_error_seen(err: Exception) -> ServiceBusy:
    """Log a lost database or a full pool, roll the request's session back (so the after-request hooks can
    reconnect or fail cleanly) and return the 503 to answer."""
    log.error("database error on %s %s: %s", request.method, request.path, str(err).splitlines()[0][:500])
    try:
        from api.extensions import db
        db.session.rollback()
    except Exception:  # noqa: BLE001  the database is away; nothing more to do here
        pass
    return ServiceBusy("the database is not reachable; retry shortly")


def problem(status: int, title: str, detail: str | None = None, errors: list | None = None,
            headers: dict | None = None) -> Response:
    """A problem+json response."""
    body: dict = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    resp = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def marshmallow_errors(messages: dict | list, prefix: str = "") -> list[dict]:
    """Flatten marshmallow's nested messages into [{field, message}]."""
    out: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}/{key}" if prefix else str(key)
            if isinstance(value, dict):
                out.extend(marshmallow_errors(value, path))
            else:
                for msg in value if isinstance(value, list) else [value]:
                    if isinstance(msg, dict):
                        out.extend(marshmallow_errors(msg, path))
                    else:
                        out.append({"field": path, "message": str(msg)})
    else:
        out.extend({"field": prefix or "body", "message": str(m)} for m in messages)
    return out


def register_error_handlers(app: Flask) -> None:
    """Map engine, validation, HTTP and database errors to problem+json."""

    @app.errorhandler(EngineError)
    def engine_error(err: EngineError) -> Response:
        headers = {"WWW-Authenticate": 'Bearer realm="oaflow"'} if err.status == 401 else None
        if isinstance(err, ServiceBusy):
            headers = {"Retry-After": err.retry_after}
        return problem(err.status, err.title, err.detail, err.errors, headers=headers)

    @app.errorhandler(ValidationError)
    def validation_error(err: ValidationError) -> Response:
        return problem(422, "Validation failed", "the request body has invalid fields",
                       marshmallow_errors(err.messages))

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        if err.response is not None:  # already a complete response (e.g. the login rate limit's 429)
            return err.response
        if isinstance(getattr(err, "original_exception", None), OperationalError | PoolTimeout):
            # the database went away outside a view (in an after_request hook, say): still a 503
            return database_unavailable(err.original_exception)
        status = err.code or 500
        detail = err.description
        if status == 413:
            detail = f"the request is larger than the {app.config['MAX_CONTENT_LENGTH']} bytes allowed"
        headers = {}
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="oaflow"'
        return problem(status, err.name, detail, headers=headers)

    @app.errorhandler(PendingRollbackError)
    def pending_rollback(err: PendingRollbackError) -> Response:
        if "reconnect" in str(err):  # the connection was lost earlier in this request
            return database_unavailable(err)
        return unexpected(err)

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(err: Exception) -> Response:
        busy = database_error_seen(err)
        return problem(busy.status, busy.title, busy.detail, headers={"Retry-After": busy.retry_after})

    @app.teardown_appcontext
    def release_session(_exc: BaseException | None) -> None:
        """End the request's session first; if the database dropped the connection, rolling back fails:
        log it instead of letting the WSGI server turn an already-built response into a bare 500."""
        from api.extensions import db
        try:
            db.session.remove()
        except Exception as err:  # noqa: BLE001  the connection is gone; the pool replaces it
            log.warning("could not end the database session cleanly: %s", str(err).splitlines()[0][:300])
            db.session.registry.clear()

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def unstorable_value(err: Exception) -> Response:
        return _unstorable(err)

    @app.errorhandler(StatementError)
    def statement_error(err: StatementError) -> Response:
        if isinstance(err.orig, OverflowError | ValueError) and not isinstance(err, OperationalError):
            return _unstorable(err)
        return unexpected(err)

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "Internal server error", "an unexpected error occurred; it has been logged")


_MAX_ID = 2**63 - 1


def _unstorable(err: Exception) -> Response:
    """A client value the database cannot hold (out-of-range number, NUL byte): 404 for an impossible id
    in the path (no such object), else 400."""
    log.info("unstorable value on %s %s: %s", request.method, request.path, str(err).splitlines()[0][:300])
    if any(isinstance(v, int) and not -_MAX_ID <= v <= _MAX_ID for v in (request.view_args or {}).values()):
        return problem(404, "Not found", "no object has this id")
    return problem(400, "Malformed request", "a value in the request is out of range or cannot be stored")
