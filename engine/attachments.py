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
    safe_name = Path(filename.replace("\\", "/")).name[:255] or "attachment"
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
