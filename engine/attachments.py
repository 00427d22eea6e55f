"""Files attached to an instance: bytes on disk under a random name, metadata in the database."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import HistoryEvent, InstanceAttachment
from store.errors import InvalidData, NotFound, TooLarge

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


def add(session: Session, upload_dir: str, instance_id: int, username: str, filename: str, content: bytes,
        max_bytes: int) -> InstanceAttachment:
    """Store an attachment (no commit). The caller has checked that `username` may read the instance."""
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
    session.add(HistoryEvent(instance_id=instance_id, type="attachment_added", user=username,
                             data={"filename": safe_name, "size": len(content)}))
    return row


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
