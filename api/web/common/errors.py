"""Error pages of the web app: a domain error, an invalid form (JSON for the board's script), an expired form
(CSRF) and not found — each an HTML page with the status, never a 500."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from api.extensions import db
from api.web.blueprint import bp
from store.errors import DomainError, InvalidData


def wants_json() -> bool:
    """Whether the page's own script sent the request (it asks for JSON)."""
    return request.headers.get("X-Requested-With") == "fetch"


@bp.errorhandler(DomainError)
def _domain_error(err: DomainError) -> tuple[str, int]:
    status = getattr(err, "status", 400)
    return render_template("error.html", status=status, title=_(err.title), detail=err.detail,
                           errors=err.errors), status


@bp.errorhandler(CSRFError)
def _csrf_error(err: CSRFError) -> tuple[str, int]:
    return render_template("error.html", status=400, title=_("Form expired"),
                           detail=_("The form was too old or not sent from this site. Reload the page and try again."),
                           errors=[]), 400


@bp.errorhandler(404)
def _not_found(err: Exception) -> tuple[str, int]:
    return render_template("error.html", status=404, title=_("Not found"), detail=None, errors=[]), 404



@bp.errorhandler(InvalidData)
def _invalid(err: InvalidData) -> Any:
    if wants_json():
        db.session.rollback()
        return jsonify({"title": _(err.title), "detail": err.detail, "errors": err.errors}), err.status
    return render_template("error.html", status=err.status, title=_(err.title), detail=err.detail,
                           errors=err.errors), err.status
