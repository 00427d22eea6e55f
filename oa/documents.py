"""Documents: versioned files in folders, visible to everyone or to the owner's chosen departments.

Uploads are sniffed by their first bytes (the client's Content-Type and file name are never trusted): only
PDF, images, Office (OOXML and legacy), plain text and CSV are accepted; executables, scripts, HTML and SVG
are refused. Files are stored under `<upload_dir>/documents/` with random names; metadata lives in the database.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from forms.files import plain_filename
from oa.models import Department, User
from oa.org import department_chain
from oa.record_models import Document, DocumentFolder, DocumentVersion, document_department
from store.base import utcnow
from store.errors import Conflict, Forbidden, InvalidData, NotFound, TooLarge

_OOXML = {"word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
          "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
          "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx")}
_REFUSED_TEXT = (b"<!doctype html", b"<html", b"<script", b"<svg", b"<?xml", b"<body", b"<iframe", b"#!")


def _invalid(message: str) -> InvalidData:
    return InvalidData(message, errors=[{"field": "file", "message": message}])


def sniff(data: bytes, filename: str = "") -> tuple[str, str]:
    """(content type, extension) judged from the bytes; InvalidData naming `file` for anything not allowed."""
    head = data[:4096]
    if not data:
        raise _invalid("the file is empty")
    if head.startswith((b"MZ", b"\x7fELF", b"\xfe\xed\xfa", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")):
        raise _invalid("executables are not accepted")
    if head.startswith(b"%PDF-"):
        return "application/pdf", "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif", "gif"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/vnd.ms-office", "doc"
    if head.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, ValueError) as err:
            raise _invalid("a damaged archive") from err
        if "[Content_Types].xml" in names:
            for prefix, kind in _OOXML.items():
                if any(n.startswith(prefix) for n in names):
                    return kind
        raise _invalid("archives are not accepted (only Office documents)")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"\x00" in head:
        raise _invalid("this file type is not accepted")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        if len(head) < 4096 or err.start < len(head) - 4:  # not just a multibyte char cut at the edge
            raise _invalid("this file type is not accepted") from err
    if stripped.startswith(_REFUSED_TEXT) or b"<script" in head.lower() or b"<html" in head.lower():
        raise _invalid("HTML, SVG, XML and scripts are not accepted")
    if filename.lower().endswith(".csv"):
        return "text/csv", "csv"
    return "text/plain", "txt"


def safe_filename(name: str | None, ext: str) -> str:
    """A display name for downloads: no paths, no control characters, the sniffed extension."""
    base = "".join(c for c in plain_filename(name, "") if c not in '"<>:|?*;')
    stem = base.rsplit(".", 1)[0].strip(". ") if "." in base else base.strip(". ")
    return f"{(stem or 'document')[:200]}.{ext}"


def _store(upload_dir: str, data: bytes) -> str:
    folder = Path(upload_dir) / "documents"
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16)
    tmp = folder / f".{name}.part"
    tmp.write_bytes(data)
    os.replace(tmp, folder / name)
    return name


def stored_path(upload_dir: str, version: DocumentVersion) -> Path:
    """Where a version's bytes live."""
    return Path(upload_dir) / "documents" / version.storage_name


def discard(upload_dir: str, storage_names: list[str]) -> None:
    """Remove stored files (after a failed transaction)."""
    for name in storage_names:
        try:
            (Path(upload_dir) / "documents" / name).unlink(missing_ok=True)
        except OSError:
            pass


def _visible(user: User):  # noqa: ANN202
    if user.has_role("admin"):
        return Document.id.isnot(None)
    conditions = [Document.owner == user.username, Document.visible_to_all.is_(True)]
    depts = department_chain(user)
    if depts:
        conditions.append(exists().where(document_department.c.document_id == Document.id,
                                         document_department.c.department_id.in_(depts)))
    return or_(*conditions)


def documents_query(user: User, folder_id: int | None = None, q: str | None = None) -> Select:
    """Documents `user` may see, newest change first."""
    query = select(Document).where(_visible(user))
    if folder_id is not None:
        query = query.where(Document.folder_id == folder_id)
    if q:
        query = query.where(func.lower(Document.title).contains(q.lower(), autoescape=True))
    return query.order_by(Document.updated_at.desc(), Document.id.desc())


def get_document(session: Session, user: User, document_id: int) -> Document:
    """A document `user` may see (404 otherwise)."""
    doc = session.scalar(select(Document).where(Document.id == document_id, _visible(user)))
    if doc is None:
        raise NotFound(f"no document {document_id}")
    return doc


def _departments(session: Session, ids: list[int]) -> list[Department]:
    found = list(session.scalars(select(Department).where(Department.id.in_(ids)))) if ids else []
    missing = set(ids) - {d.id for d in found}
    if missing:
        raise InvalidData("unknown departments", errors=[{"field": "departments", "message": f"no department {m}"}
                                                         for m in sorted(missing)])
    return found


def _check_size(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise TooLarge(f"the file is larger than the {max_bytes} bytes allowed")


def _version(doc: Document, user: User, upload_dir: str, data: bytes, filename: str | None,
             number: int, stored: list[str]) -> DocumentVersion:
    content_type, ext = sniff(data, filename or "")
    name = _store(upload_dir, data)
    stored.append(name)
    return DocumentVersion(document=doc, version=number, storage_name=name, filename=safe_filename(filename, ext),
                           content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                           uploaded_by=user.username, uploaded_at=utcnow())


def create_document(session: Session, user: User, upload_dir: str, max_bytes: int, data: bytes,
                    meta: dict[str, Any], stored: list[str]) -> Document:
    """A new document with its first version. meta: filename, title?, folder_id?, visibility, departments.

    Names of files written are appended to `stored`, so the caller can discard them if the commit fails.
    """
    _check_size(data, max_bytes)
    if meta.get("folder_id") is not None and session.get(DocumentFolder, meta["folder_id"]) is None:
        raise InvalidData("unknown folder", errors=[{"field": "folder_id", "message": "no such folder"}])
    departments = _departments(session, meta.get("departments") or [])
    visibility = meta.get("visibility") or "private"
    if visibility == "departments" and not departments:
        raise InvalidData("name the departments", errors=[{"field": "departments",
                                                           "message": "required for visibility=departments"}])
    now = utcnow()
    title = (meta.get("title") or "").strip() or safe_filename(meta.get("filename"), "x").rsplit(".", 1)[0]
    doc = Document(title=title[:200], folder_id=meta.get("folder_id"), owner=user.username,
                   visible_to_all=visibility == "all", created_at=now, updated_at=now)
    doc.departments = departments if visibility == "departments" else []
    session.add(doc)
    session.add(_version(doc, user, upload_dir, data, meta.get("filename"), 1, stored))
    session.flush()
    return doc


def add_version(session: Session, user: User, document_id: int, upload_dir: str, max_bytes: int, data: bytes,
                filename: str | None, stored: list[str]) -> DocumentVersion:
    """Upload a new version (owner or admin; others who can see the document get 403)."""
    doc = get_document(session, user, document_id)
    if doc.owner != user.username and not user.has_role("admin"):
        raise Forbidden("only the owner may upload new versions")
    _check_size(data, max_bytes)
    number = (session.scalar(select(func.max(DocumentVersion.version)).where(
        DocumentVersion.document_id == doc.id)) or 0) + 1
    version = _version(doc, user, upload_dir, data, filename, number, stored)
    session.add(version)
    doc.updated_at = utcnow()
    session.flush()
    return version


def version_for_download(session: Session, user: User, document_id: int, number: int | None) -> DocumentVersion:
    """The latest (or the numbered) version of a document `user` may see."""
    doc = get_document(session, user, document_id)
    query = select(DocumentVersion).where(DocumentVersion.document_id == doc.id)
    query = query.where(DocumentVersion.version == number) if number else query.order_by(
        DocumentVersion.version.desc()).limit(1)
    version = session.scalar(query)
    if version is None:
        raise NotFound(f"document {document_id} has no version {number}")
    return version


def create_folder(session: Session, user: User, name: str, parent_id: int | None) -> DocumentFolder:
    """A folder (409 if the name is taken in that parent)."""
    if parent_id is not None and session.get(DocumentFolder, parent_id) is None:
        raise InvalidData("unknown folder", errors=[{"field": "parent_id", "message": "no such folder"}])
    clash = select(DocumentFolder.id).where(func.lower(DocumentFolder.name) == name.strip().lower())
    clash = clash.where(DocumentFolder.parent_id == parent_id if parent_id is not None
                        else DocumentFolder.parent_id.is_(None))
    if session.scalar(clash) is not None:
        raise Conflict(f"a folder named {name!r} exists there")
    folder = DocumentFolder(name=name.strip(), parent_id=parent_id, created_by=user.username, created_at=utcnow())
    session.add(folder)
    session.flush()
    return folder


def folders_query() -> Select:
    """All folders by name."""
    return select(DocumentFolder).order_by(DocumentFolder.name, DocumentFolder.id)
