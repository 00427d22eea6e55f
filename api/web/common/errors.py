"""Error pages of the web app: a domain error, an invalid form (JSON for the board's script), an expired form
(CSRF) and not found — each an HTML page with the status, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from api.errors import ServiceBusy, database_error_seen, problem
from api.extensions import db
from api.web.blueprint import bp
from api.web.common.error_text import english, error_text
from store.errors import DomainError, InvalidData

F = TypeVar("F", bound=Callable[..., Any])


def json_view(view: F) -> F:
    """Mark a web view that answers JSON (a picker's lookup): its errors are JSON problems, not HTML pages."""
    view.oaflow_json = True  # type: ignore[attr-defined]
    return view


def wants_json() -> bool:
    """Whether the page's own script sent the request (it asks for JSON) or the view answers JSON."""
    view = current_app.view_functions.get(request.endpoint or "")
    return request.headers.get("X-Requested-With") == "fetch" or bool(getattr(view, "oaflow_json", False))


@bp.errorhandler(OverflowError)
@bp.errorhandler(DataError)
def _out_of_range(err: Exception) -> Any:
    """A value no date or column can hold that no schema caught: a 422 page (or JSON problem), never a 500."""
    db.session.rollback()
    if wants_json():
        return problem(422, _("Invalid query"), _("A value in the address is out of range."))
    return render_template("error.html", status=422, title=_("Invalid query"),
                           detail=_("A value in the address is out of range."), errors=[]), 422


# `|error_text`: a domain or validation message (English, as the API says it) in the reader's language
bp.app_template_filter("error_text")(error_text)


@bp.errorhandler(DomainError)
def _domain_error(err: DomainError) -> Any:
    status = getattr(err, "status", 400)
    if wants_json():
        db.session.rollback()
        return problem(status, _(err.title), err.detail, err.errors)
    if status == 404 and not english():  # "no customer 4" is the API's English: the page says it generically
        return render_template("error.html", status=404, title=_("Not found"), detail=_("The record was not found."),
                               errors=[]), 404
    return render_template("error.html", status=status, title=_(err.title), detail=err.detail,
                           errors=err.errors), status


@bp.errorhandler(ServiceBusy)
@bp.errorhandler(OperationalError)
@bp.errorhandler(PoolTimeout)
def _busy(err: Exception) -> Any:
    """The database is busy or away: a page that says to try again (the form's data is still in the browser:
    going back keeps it), with Retry-After; JSON for the page's own scripts."""
    busy = err if isinstance(err, ServiceBusy) else database_error_seen(err)
    headers = {"Retry-After": busy.retry_after}
    if wants_json():
        return problem(503, _("Service unavailable"), busy.detail, headers=headers)
    return render_template("error.html", status=503, title=_("Busy - please try again"),
                           detail=_("The system is busy saving other changes. Go back and send the form again in "
                                    "a moment; nothing was saved."), errors=[]), 503, headers


@bp.errorhandler(CSRFError)
def _csrf_error(err: CSRFError) -> tuple[str, int]:
    return render_template("error.html", status=400, title=_("Form expired"),
                           detail=_("The form was too old or not sent from this site. Reload the page and try again."),
                           errors=[]), 400


@bp.errorhandler(404)
def _not_found(err: Exception) -> tuple[str, int]:
    return render_template("error.html", status=404, title=_("Not found"), detail=None, errors=[]), 404


API_PATHS = ("/api/", "/engine-rest")


def site_not_found(err: HTTPException) -> Any:
    """An address no page or endpoint has: the 404 page for a browser (it asks for text/html by name), the
    problem+json every API client gets otherwise."""
    if request.path.startswith("/engine-rest"):  # a Camunda client reads Camunda's error shape
        from api.camunda.common import error as camunda_error
        return camunda_error(404, f"no resource at {request.path[:200]} (see the README's /engine-rest subset)")
    if request.path.startswith(API_PATHS) or "text/html" not in request.headers.get("Accept", ""):
        return problem(404, "Not Found", err.description)
    return render_template("error.html", status=404, title=_("Not found"), detail=None, errors=[]), 404



@bp.errorhandler(InvalidData)
def _invalid(err: InvalidData) -> Any:
    if wants_json():
        db.session.rollback()
        return jsonify({"title": _(err.title), "detail": err.detail, "errors": err.errors}), err.status
    return render_template("error.html", status=err.status, title=_(err.title), detail=err.detail,
                           errors=err.errors), err.status
