"""The designer (designer or admin role): upload BPMN/DMN/form files to validate or deploy them, every version
of a process, the diff of two versions; and the process diagram view (any user).
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import select

from api.auth import issue_page_token
from api.errors import ApiError
from api.extensions import db
from api.http import query_args
from api.state import get_engine
from api.web.blueprint import bp
from api.web.common import queries as q
from api.web.common.diagram import diagram_response
from api.web.common.session import user
from api.web.designer.problem_text import problem_rows
from engine import definitions
from engine.errors import DeploymentInvalid
from engine.models import ProcessDefinition
from store.errors import Forbidden, InvalidData, NotFound


def _require_designer() -> None:
    if not user().has_role("designer", "admin"):
        raise Forbidden("the designer needs the designer or admin role")


def _uploaded() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    cap = int(current_app.config["OAFLOW_MAX_FILE_BYTES"])
    for storage in request.files.getlist("files"):
        name = (storage.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        if not name:
            continue
        if name in files:
            raise InvalidData(_("A file was chosen twice."), errors=[{"field": "files", "message": name}])
        content = storage.read(cap + 1)
        if len(content) > cap:
            raise InvalidData(_("A file is too large."), errors=[{"field": "files", "message": name}])
        files[name] = content
    if not files:
        raise InvalidData(_("Choose at least one file."), errors=[{"field": "files",
                                                                  "message": _("Choose at least one file.")}])
    return files


@bp.get("/designer")
def designer() -> str:
    """Upload form and the deployed processes with their versions."""
    _require_designer()
    return _render_designer()


def _render_designer(**kw: Any) -> str:
    latest = definitions.latest_definitions(db.session)
    return render_template("designer/designer.html", latest=latest, **kw)


@bp.post("/designer")
def designer_upload() -> Any:
    """Validate (and, when asked and valid, deploy) uploaded BPMN/DMN/form files."""
    _require_designer()
    try:
        files = _uploaded()
    except InvalidData as err:
        return _render_designer(upload_error=err.detail), 422
    signatures = get_engine().services.signatures()
    bpmn = {n: c.decode("utf-8", "replace") for n, c in files.items() if n.lower().endswith(".bpmn")}
    if request.form.get("action") == "deploy":
        try:
            result = definitions.deploy(db.session, files, signatures, name=request.form.get("name") or None,
                                        user=user().username,
                                        user_exists=get_engine().directory(db.session).user_exists)
            db.session.commit()
        except DeploymentInvalid as err:
            db.session.rollback()
            return _render_designer(problems=problem_rows(err.problems), bpmn=bpmn, checked=True), 422
        except Exception:
            db.session.rollback()
            raise
        created = [d for d, c in zip(result.definitions, result.created, strict=True) if c]
        flash(_("Deployed: %(names)s", names=", ".join(f"{d.key} v{d.version}" for d in created)
                or _("nothing changed")), "ok")
        for warning in problem_rows(result.warnings):  # deployed, but the designer should know
            flash(_("Warning: %(file)s, %(element)s: %(message)s", file=warning["file"],
                    element=warning["element_id"] or "-", message=warning["message"]), "warning")
        return redirect(url_for("web.designer"))
    db.session.rollback()
    _bundle, processes, problems = definitions.validate(db.session, files, signatures)
    db.session.rollback()
    return _render_designer(problems=problem_rows(problems), bpmn=bpmn, checked=True,
                            processes=sorted(processes))


@bp.get("/designer/processes/<key>")
def versions(key: str) -> str:
    """Every version of a process, to browse and compare."""
    _require_designer()
    rows = db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == key[:255])
                              .order_by(ProcessDefinition.version.desc())).all()
    if not rows:
        raise NotFound(f"no process definition '{key}'")
    return render_template("designer/versions.html", key=key, rows=rows)


class DiffArgs(Schema):
    """The two versions to compare."""

    class Meta:
        unknown = RAISE

    a = fields.Integer(required=True, validate=validate.Range(min=1))
    b = fields.Integer(required=True, validate=validate.Range(min=1))


@bp.get("/designer/processes/<key>/diff")
def diff(key: str) -> str:
    """Which elements changed between versions a and b (ids, names, attributes, scripts)."""
    _require_designer()
    args = query_args(DiffArgs)
    old = definitions.get_definition(db.session, key[:255], args["a"])
    new = definitions.get_definition(db.session, key[:255], args["b"])
    changes = q.diff_versions(q.definition_xml(db.session, old), q.definition_xml(db.session, new))
    token = issue_page_token(user())
    return render_template("designer/diff.html", key=key, old=old, new=new, changes=changes, api_token=token)


def _version_arg() -> int | None:
    """?version=N (a positive whole number) or None for the latest version."""
    version = request.args.get("version", type=int)
    if request.args.get("version") and (version is None or version < 1):
        raise ApiError(422, "Invalid query", "version must be a positive whole number",
                       [{"field": "version", "message": "must be a positive whole number"}])
    return version


@bp.get("/processes/<key>/diagram.xml")
def process_diagram(key: str) -> Response:
    """The BPMN XML of a process definition (latest or ?version=N) with element names in the reader's language;
    any logged-in user may read definitions, as on the process page."""
    return diagram_response(definitions.get_definition(db.session, key[:255], _version_arg()))


@bp.get("/processes/<key>")
def process(key: str) -> str:
    """A process definition's diagram (latest or ?version=N)."""
    d = definitions.get_definition(db.session, key[:255], _version_arg())
    token = issue_page_token(user())
    return render_template("designer/process.html", d=d, api_token=token, start=q.start_meta(d) is not None)
