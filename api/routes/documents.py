"""Documents: multipart upload with versions, folders, department visibility, checked downloads."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request, send_file
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from api.auth import current_user, login_required
from api.errors import ApiError, marshmallow_errors
from api.extensions import db
from api.http import json_body, paginate, query_args
from api.schemas import PageArgs
from engine.runtime import begin_write
from oa import documents
from store.errors import InvalidData, TooLarge

bp = Blueprint("documents", __name__)


class _IdList(fields.Field):
    """'1,2,3' (a form field) as a list of ints."""

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN003, ANN202
        try:
            return [int(v) for v in str(value).split(",") if v.strip()]
        except ValueError as err:
            raise ValidationError("expected comma-separated department ids") from err


class UploadForm(Schema):
    class Meta:
        unknown = RAISE

    title = fields.String(validate=validate.Length(max=200))
    folder_id = fields.Integer(allow_none=True)
    visibility = fields.String(load_default="private", validate=validate.OneOf(["private", "departments", "all"]))
    departments = _IdList(load_default=list)


class VersionForm(Schema):
    class Meta:
        unknown = RAISE


class DocumentArgs(PageArgs):
    folder_id = fields.Integer()
    q = fields.String(validate=validate.Length(max=100))


class DownloadArgs(Schema):
    class Meta:
        unknown = RAISE

    version = fields.Integer(validate=validate.Range(min=1))


class FolderCreate(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    parent_id = fields.Integer(load_default=None, allow_none=True, strict=True)


def _upload(form_schema: Schema) -> tuple[dict, bytes, str | None]:
    """The form fields and the `file` part (read up to the cap + 1 byte)."""
    if not request.mimetype.startswith("multipart/form-data"):
        raise ApiError(415, "Unsupported media type", "send multipart/form-data with a part named 'file'")
    try:
        meta = form_schema.load(request.form.to_dict())
    except ValidationError as err:
        raise ApiError(422, "Validation failed", "the form has invalid fields", marshmallow_errors(err.messages)) \
            from err
    parts = request.files.getlist("file")
    if len(parts) != 1:
        raise InvalidData("send exactly one file", errors=[{"field": "file", "message": "exactly one file part"}])
    cap = int(current_app.config["OAFLOW_MAX_FILE_BYTES"])
    data = parts[0].stream.read(cap + 1)
    if len(data) > cap:
        raise TooLarge(f"the file is larger than the {cap} bytes allowed")
    return meta, data, parts[0].filename


def _upload_dir() -> str:
    return current_app.config["OAFLOW_SETTINGS"].upload_dir


def dump_version(v) -> dict:  # noqa: ANN001
    """One version's metadata."""
    return {"version": v.version, "filename": v.filename, "content_type": v.content_type, "size": v.size,
            "sha256": v.sha256, "uploaded_by": v.uploaded_by, "uploaded_at": v.uploaded_at.isoformat()}


def dump_document(d, with_versions: bool = False) -> dict:  # noqa: ANN001
    """A document with its latest version (and all versions on request)."""
    visibility = "all" if d.visible_to_all else ("departments" if d.departments else "private")
    out = {"id": d.id, "title": d.title, "folder_id": d.folder_id, "owner": d.owner, "visibility": visibility,
           "departments": sorted(x.id for x in d.departments), "created_at": d.created_at.isoformat(),
           "updated_at": d.updated_at.isoformat(), "latest": dump_version(d.versions[-1]) if d.versions else None}
    if with_versions:
        out["versions"] = [dump_version(v) for v in d.versions]
    return out


def _commit_or_discard(stored: list[str]) -> None:
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        documents.discard(_upload_dir(), stored)
        raise


@bp.post("/documents")
@login_required
def upload() -> tuple[dict, int]:
    """Upload a new document (multipart: file, title?, folder_id?, visibility, departments='1,2')."""
    meta, data, filename = _upload(UploadForm())
    meta["filename"] = filename
    user = current_user()
    begin_write(db.session)
    stored: list[str] = []
    try:
        doc = documents.create_document(db.session, user, _upload_dir(), int(current_app.config[
            "OAFLOW_MAX_FILE_BYTES"]), data, meta, stored)
    except BaseException:
        documents.discard(_upload_dir(), stored)
        raise
    _commit_or_discard(stored)
    return dump_document(doc, True), 201


@bp.get("/documents")
@login_required
def list_documents() -> dict:
    """Documents I may see (?folder_id=, ?q= in the title)."""
    args = query_args(DocumentArgs)
    query = documents.documents_query(current_user(), args.get("folder_id"), args.get("q"))
    return paginate(query, args["page"], args["per_page"], lambda rows: [dump_document(d) for d in rows])


@bp.get("/documents/<int:document_id>")
@login_required
def get_document(document_id: int) -> dict:
    """A document with all its versions."""
    return dump_document(documents.get_document(db.session, current_user(), document_id), True)


@bp.post("/documents/<int:document_id>/versions")
@login_required
def new_version(document_id: int) -> tuple[dict, int]:
    """Upload a new version (the owner or an admin)."""
    _meta, data, filename = _upload(VersionForm())
    user = current_user()
    begin_write(db.session)
    stored: list[str] = []
    try:
        version = documents.add_version(db.session, user, document_id, _upload_dir(),
                                        int(current_app.config["OAFLOW_MAX_FILE_BYTES"]), data, filename, stored)
    except BaseException:
        documents.discard(_upload_dir(), stored)
        raise
    _commit_or_discard(stored)
    return dump_version(version), 201


@bp.get("/documents/<int:document_id>/download")
@login_required
def download(document_id: int) -> Response:
    """The latest (or ?version=N) file, if I may see the document; always as an attachment."""
    args = query_args(DownloadArgs)
    version = documents.version_for_download(db.session, current_user(), document_id, args.get("version"))
    path = documents.stored_path(_upload_dir(), version)
    if not path.is_file():
        raise ApiError(410, "Gone", "the stored file is missing; ask an admin to restore it")
    resp = send_file(path, mimetype=version.content_type, as_attachment=True, download_name=version.filename,
                     etag=version.sha256, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


@bp.get("/document-folders")
@login_required
def list_folders() -> dict:
    """All folders."""
    args = query_args(PageArgs)
    return paginate(documents.folders_query(), args["page"], args["per_page"],
                    lambda rows: [{"id": f.id, "name": f.name, "parent_id": f.parent_id, "created_by": f.created_by}
                                  for f in rows])


@bp.post("/document-folders")
@login_required
def create_folder() -> tuple[dict, int]:
    """Create a folder."""
    body = json_body(FolderCreate)
    user = current_user()
    begin_write(db.session)
    folder = documents.create_folder(db.session, user, body["name"], body["parent_id"])
    db.session.commit()
    return {"id": folder.id, "name": folder.name, "parent_id": folder.parent_id, "created_by": folder.created_by}, 201
