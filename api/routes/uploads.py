"""Uploads before a request exists: a receipt is uploaded first, then named by id in the expense claim."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from api.auth import current_actor, login_required
from api.errors import ApiError
from api.extensions import db
from engine import attachments
from engine.runtime import begin_write

bp = Blueprint("uploads", __name__)


def _upload_dir() -> str:
    return current_app.config["OAFLOW_SETTINGS"].upload_dir


@bp.post("/attachments")
@login_required
def upload() -> tuple[dict, int]:
    """Upload a file (multipart part `file`) for a request you are about to start; name it by its id."""
    upload_file = request.files.get("file")
    if upload_file is None:
        raise ApiError(422, "Validation failed", "send the file as multipart part 'file'",
                       [{"field": "file", "message": "is required"}])
    cap = int(current_app.config["OAFLOW_MAX_FILE_BYTES"])
    begin_write(db.session)
    row = attachments.add(db.session, _upload_dir(), None, current_actor().username,
                          upload_file.filename or "attachment", upload_file.read(cap + 1), cap)
    db.session.commit()
    return {"id": row.id, "filename": row.filename, "content_type": row.content_type, "size": row.size}, 201


@bp.get("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int) -> Response:
    """Download one of your uploads that no request uses yet (afterwards: through its instance)."""
    from urllib.parse import quote
    row, content = attachments.read_pending(db.session, _upload_dir(), attachment_id, current_actor().username)
    resp = Response(content, mimetype=row.content_type)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(row.filename, safe='')}"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
