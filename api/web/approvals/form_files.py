"""File fields of the web forms: each chosen file (part `file:<path>`) is stored as a pending upload of the
user through the attachment storage (size cap, content types sniffed from the bytes, name sanitised) and its
id is put into the field `v:<path>`; the engine attaches it to the instance when the form is accepted.
A copied or resubmitted request carries its files over as new pending uploads of the applicant; the form shows
each file it holds by its own name with a box to drop it (`_drop_file`), and names only the user's own pending
uploads: a field naming anything else is shown empty (the engine refuses it on submit anyway).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict

from api.extensions import db
from api.web.common.schema_forms import FILE_PREFIX, PREFIX, Field, file_field_path
from api.web.common.session import actor
from engine import attachments
from engine.models import InstanceAttachment
from engine.runtime import begin_write
from forms.files import file_values
from store.errors import DomainError

MAX_FILES = 100  # one form never carries more files than line items


def with_uploads(schema: dict | None, form: MultiDict, files: MultiDict) -> tuple[MultiDict, dict[str, str]]:
    """The form data with the id of each newly stored file in its field, and errors by field path.
    Stored files are committed at once (a form shown again keeps them, without sending them again)."""
    data = MultiDict(form)
    errors: dict[str, str] = {}
    for path in form.getlist("_drop_file")[:MAX_FILES]:  # "Remove" ticked beside a file the form held
        if file_field_path(schema, FILE_PREFIX + path) is not None:
            data.setlist(PREFIX + path, [""])
    picked: list[tuple[str, FileStorage]] = []
    for key, upload in files.items(multi=True):
        path = file_field_path(schema, key)
        if path is not None and upload and upload.filename:
            picked.append((path, upload))
    cap = int(current_app.config["OAFLOW_MAX_FILE_BYTES"])
    for path, upload in picked[:MAX_FILES]:
        try:
            begin_write(db.session)
            row = attachments.add(db.session, current_app.config["OAFLOW_SETTINGS"].upload_dir, None,
                                  actor().username, upload.filename or "attachment", upload.read(cap + 1), cap)
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            errors[path] = err.detail or err.title
            continue
        data.setlist(PREFIX + path, [str(row.id)])
    return data, errors


def _set_path(data: dict, path: str, value: Any) -> None:
    """Put `value` at a field path (`receipt`, `items/0/receipt`) of already-present form data."""
    *parents, last = path.split("/")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value


def carry_files(schema: dict | None, values: dict, source_id: int) -> dict:
    """`values` (copied from my request `source_id`) with each file field naming a new pending upload of mine
    holding the same file, so the form can be submitted as it is; a file that cannot be copied (gone, over
    the pending cap) is left empty for the user to choose again, and so is an expense receipt a claim in
    approval or paid still holds (a copy of it could never be claimed). Commits each copy (like a fresh upload)."""
    from oa.receipts import claimed_elsewhere
    cap = int(current_app.config["OAFLOW_MAX_FILE_BYTES"])
    upload_dir = current_app.config["OAFLOW_SETTINGS"].upload_dir
    for path, attachment_id in file_values(schema, values)[:MAX_FILES]:
        if claimed_elsewhere(db.session, [attachment_id]):
            _set_path(values, path, None)
            continue
        try:
            begin_write(db.session)
            row = attachments.copy_as_pending(db.session, upload_dir, source_id, attachment_id,
                                              actor().username, cap)
            db.session.commit()
            _set_path(values, path, row.id)
        except (DomainError, OSError):
            db.session.rollback()
            _set_path(values, path, None)
    return values


def _file_fields(fields: list[Field]) -> list[Field]:
    out: list[Field] = []
    for f in fields:
        if f.kind == "file":
            out.append(f)
        for row in f.rows:
            out += _file_fields(row)
        out += _file_fields(f.children)
    return out


def name_files(fields: list[Field], username: str) -> list[Field]:
    """Give each file field holding one of `username`'s pending uploads that file's name (shown beside the field);
    a field naming anything else (someone else's file, one already used, an unknown id) is emptied, so a form
    never claims a file it does not hold. Returns `fields`."""
    files = _file_fields(fields)
    held = {id(f): int(f.value) for f in files
            if isinstance(f.value, int | str) and str(f.value).isdigit() and len(str(f.value)) <= 18}
    names = dict(db.session.execute(select(InstanceAttachment.id, InstanceAttachment.filename).where(
        InstanceAttachment.id.in_(sorted(set(held.values()))), InstanceAttachment.uploaded_by == username,
        InstanceAttachment.instance_id.is_(None))).all()) if held else {}
    for f in files:
        upload = held.get(id(f))
        f.filename = names.get(upload) if upload is not None else None
        if f.filename is None:
            f.value = None
    return fields
