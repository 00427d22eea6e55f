"""POST /deployments and /deployments/validate: multipart uploads of BPMN, DMN and form files."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from api.auth import current_user, require_roles
from api.errors import ApiError
from api.extensions import db
from api.http import schema
from api.schemas import DefinitionOut
from api.state import get_engine
from engine import definitions
from engine.errors import TooLarge


def _uploaded_files() -> dict[str, bytes]:
    if not request.mimetype or not request.mimetype.startswith("multipart/form-data"):
        raise ApiError(415, "Unsupported media type", "send multipart/form-data with parts named 'files'")
    files: dict[str, bytes] = {}
    cap = int(current_app.config["OAFLOW_MAX_FILE_BYTES"])
    for storage in request.files.getlist("files"):
        name = (storage.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        if not name:
            raise ApiError(400, "Malformed request", "every uploaded file needs a file name")
        if name in files:
            raise ApiError(422, "Validation failed", f"file '{name}' uploaded twice",
                           [{"file": name, "message": "duplicate file name"}])
        content = storage.read(cap + 1)
        if len(content) > cap:
            raise TooLarge(f"file '{name}' is larger than {cap} bytes")
        files[name] = content
    return files


bp = Blueprint("deployments", __name__)


@bp.post("/deployments/validate")
def validate() -> dict:
    """Every problem with the uploaded files, without deploying them."""
    require_roles("designer", "admin")
    files = _uploaded_files()
    _, processes, problems = definitions.validate(db.session, files, get_engine().services.signatures())
    valid = not any(p.severity == "error" for p in problems)
    return {"valid": valid, "processes": sorted(processes), "problems": [p.to_dict() for p in problems]}


@bp.post("/deployments")
def deploy() -> tuple[dict, int]:
    """Deploy the uploaded files; changed processes get a new version."""
    require_roles("designer", "admin")
    files = _uploaded_files()
    user = current_user().username
    name = request.form.get("name")
    try:
        result = definitions.deploy(db.session, files, get_engine().services.signatures(), name=name, user=user,
                                    user_exists=get_engine().directory(db.session).user_exists)
        db.session.commit()
        get_engine().start_timer_processes(db.session, [d for d, c in zip(result.definitions, result.created,
                                                                           strict=True) if c])
    except Exception:
        db.session.rollback()
        raise
    out = schema(DefinitionOut)
    return {
        "id": result.deployment_id,
        "definitions": [{**out.dump(d), "created": c} for d, c in zip(result.definitions, result.created,
                                                                       strict=True)],
        "problems": [p.to_dict() for p in result.warnings],
    }, 201
