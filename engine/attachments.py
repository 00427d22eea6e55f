"""Files attached to an instance: bytes on disk under a random name, metadata in the database.

A file may also be uploaded before its instance exists (a receipt for an expense claim): it is *pending*
(no instance), readable only by its uploader, until a start check accepts it and the flow claims it.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.models import HistoryEvent, InstanceAttachment
from forms.files import file_values, plain_filename
from store.errors import Conflict, InvalidData, NotFound, TooLarge

MAX_PENDING_PER_USER = 100

ALLOWED_TYPES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
    b"PK\x03\x04": "application/zip",  # also docx/xlsx/pptx
}


def sniff(content: bytes, filename: str) -> str:
    """The content type from the bytes themselves (never the client's word); plain text and CSV allowed."""
    for magic, ctype in ALLOWED_TYPES.items():
        if content.startswith(magic):
            if ctype == "application/zip" and filename.lower().endswith((".docx", ".xlsx", ".pptx")):
                return "application/vnd.openxmlformats-officedocument"
            return ctype
    head = content[:4096]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text and "<script" not in text.lower() and "<html" not in text.lower():
        return "text/csv" if filename.lower().endswith(".csv") else "text/plain"
    raise InvalidData("this kind of file cannot be attached (PDF, images, Office documents, text and CSV only)",
                      errors=[{"field": "file", "message": "unsupported content type"}])


def add(session: Session, upload_dir: str, instance_id: int | None, username: str, filename: str, content: bytes,
        max_bytes: int) -> InstanceAttachment:
    """Store an attachment (no commit). The caller has checked that `username` may read the instance;
    `instance_id` None stores a pending upload (at most MAX_PENDING_PER_USER unused ones per user)."""
    if instance_id is None and session.scalar(select(func.count()).select_from(InstanceAttachment).where(
            InstanceAttachment.uploaded_by == username,
            InstanceAttachment.instance_id.is_(None))) >= MAX_PENDING_PER_USER:
        raise Conflict(f"you have {MAX_PENDING_PER_USER} uploads no request uses yet; use them first")
    if len(content) > max_bytes:
        raise TooLarge(f"attachments are limited to {max_bytes} bytes")
    if not content:
        raise InvalidData("the file is empty", errors=[{"field": "file", "message": "empty"}])
    safe_name = plain_filename(filename, "attachment")
    ctype = sniff(content, safe_name)
    stored = secrets.token_hex(16)
    folder = Path(upload_dir) / "attachments"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored).write_bytes(content)
    row = InstanceAttachment(instance_id=instance_id, filename=safe_name, content_type=ctype, size=len(content),
                             sha256=hashlib.sha256(content).hexdigest(), stored_name=stored, uploaded_by=username)
    session.add(row)
    if instance_id is not None:
        session.add(HistoryEvent(instance_id=instance_id, type="attachment_added", user=username,
                                 data={"filename": safe_name, "size": len(content)}))
    else:
        session.flush()
    return row


def unusable_pending(session: Session, ids: list[int], username: str) -> list[int]:
    """Those of `ids` that are not pending uploads of `username` (unknown, someone else's, or already used)."""
    mine = set(session.scalars(select(InstanceAttachment.id).where(
        InstanceAttachment.id.in_(ids), InstanceAttachment.uploaded_by == username,
        InstanceAttachment.instance_id.is_(None))))
    return [i for i in ids if i not in mine]


def claim_pending(session: Session, ids: list[int], username: str, instance_id: int) -> int:
    """Attach `username`'s pending uploads `ids` to an instance; how many were claimed (no commit)."""
    if not ids:
        return 0
    result = session.execute(update(InstanceAttachment).where(
        InstanceAttachment.id.in_(ids), InstanceAttachment.uploaded_by == username,
        InstanceAttachment.instance_id.is_(None)).values(instance_id=instance_id))
    return result.rowcount or 0


def read_pending(session: Session, upload_dir: str, attachment_id: int,
                 username: str) -> tuple[InstanceAttachment, bytes]:
    """A pending upload's row and bytes (404 unless it is `username`'s and still pending)."""
    row = session.get(InstanceAttachment, attachment_id)
    if row is None or row.instance_id is not None or row.uploaded_by != username:
        raise NotFound(f"no pending upload {attachment_id}")
    return row, (Path(upload_dir) / "attachments" / row.stored_name).read_bytes()


def list_for(session: Session, instance_id: int) -> list[InstanceAttachment]:
    """An instance's attachments, oldest first."""
    return list(session.scalars(select(InstanceAttachment).where(InstanceAttachment.instance_id == instance_id)
                                .order_by(InstanceAttachment.id)))


def read(session: Session, upload_dir: str, instance_id: int, attachment_id: int) -> tuple[InstanceAttachment, bytes]:
    """One attachment's row and bytes (404 unless it belongs to that instance)."""
    row = session.get(InstanceAttachment, attachment_id)
    if row is None or row.instance_id != instance_id:
        raise NotFound(f"no attachment {attachment_id}")
    return row, (Path(upload_dir) / "attachments" / row.stored_name).read_bytes()


def check_form_files(session: Session, schema: object, variables: dict, username: str) -> None:
    """Every file field (`x-oaflow-file`) of `variables` must name a pending upload of `username`, each used
    once; else a 422 naming the field (an unknown upload and someone else's get the same message)."""
    found = file_values(schema, variables)
    if not found:
        return
    bad = set(unusable_pending(session, [i for _, i in found], username))
    errors, seen = [], set()
    for path, upload_id in found:
        if upload_id in bad:
            errors.append({"field": path, "message": "not a file you uploaded, or already used by a request"})
        elif upload_id in seen:
            errors.append({"field": path, "message": "already used by another field"})
        seen.add(upload_id)
    if errors:
        raise InvalidData("some files cannot be used", errors=errors)


def attach_form_files(session: Session, schema: object, variables: dict, username: str, instance_id: int) -> None:
    """Attach the uploads named by the file fields to the instance (no commit); a 409 if one was taken
    meanwhile by another request. Uploads a flow step attached already (expense receipts) count as done."""
    ids = [i for _, i in file_values(schema, variables)]
    if not ids:
        return
    claim_pending(session, ids, username, instance_id)
    session.flush()
    attached = set(session.scalars(select(InstanceAttachment.id).where(InstanceAttachment.id.in_(ids),
                                                                       InstanceAttachment.instance_id == instance_id)))
    if attached != set(ids):
        raise Conflict("a file was used by another request at the same time")
    for row in session.scalars(select(InstanceAttachment).where(InstanceAttachment.id.in_(ids))):
        session.add(HistoryEvent(instance_id=instance_id, type="attachment_added", user=username,
                                 data={"filename": row.filename, "size": row.size}))


def copy_as_pending(session: Session, upload_dir: str, instance_id: int, attachment_id: int, username: str,
                    max_bytes: int) -> InstanceAttachment:
    """A pending upload of `username` holding the same file as attachment `attachment_id` of `instance_id` (a
    copied or resubmitted request carries its files over; no commit). The caller has checked that `username`
    may read the instance. An unused pending copy of the same file is reused, so showing the form again does
    not pile up copies; otherwise the usual caps (size, pending uploads per user) apply."""
    row, content = read(session, upload_dir, instance_id, attachment_id)
    existing = session.scalar(select(InstanceAttachment).where(
        InstanceAttachment.uploaded_by == username, InstanceAttachment.instance_id.is_(None),
        InstanceAttachment.sha256 == row.sha256, InstanceAttachment.filename == row.filename).limit(1))
    if existing is not None:
        return existing
    return add(session, upload_dir, None, username, row.filename, content, max_bytes)
