"""Announcements: publish (admins, department heads), list what I may read, mark read, see readers."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from api.auth import current_user, login_required
from api.extensions import db
from api.http import json_body, paginate, query_args
from api.schemas import PageArgs
from engine.runtime import begin_write
from oa import announcements
from oa.calendar import parse_moment

bp = Blueprint("announcements", __name__)


class AnnouncementCreate(Schema):
    class Meta:
        unknown = RAISE

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(load_default="", validate=validate.Length(max=50_000))
    publish_at = fields.DateTime(load_default=None, allow_none=True)
    expire_at = fields.DateTime(load_default=None, allow_none=True)
    departments = fields.List(fields.Integer(strict=True), load_default=list, validate=validate.Length(max=200))


class AnnouncementArgs(PageArgs):
    unread = fields.Boolean(load_default=False)
    mine = fields.Boolean(load_default=False)


def _dump(rows: list, read_ids: set[int]) -> list[dict]:
    return [{"id": a.id, "title": a.title, "body": a.body, "author": a.author, "audience_all": a.audience_all,
             "departments": sorted(d.id for d in a.departments), "publish_at": a.publish_at.isoformat(),
             "expire_at": a.expire_at.isoformat() if a.expire_at else None, "read": a.id in read_ids}
            for a in rows]


def _dump_for(rows: list) -> list[dict]:
    me = current_user().username
    return _dump(rows, announcements.read_usernames(db.session, me, [a.id for a in rows]))


@bp.get("/announcements")
@login_required
def list_announcements() -> dict:
    """Announcements visible to me now (?unread=true: not yet read); ?mine=true: the ones I wrote."""
    args = query_args(AnnouncementArgs)
    user = current_user()
    query = (announcements.authored_query(user) if args["mine"]
             else announcements.visible_query(user, unread_only=args["unread"]))
    return paginate(query, args["page"], args["per_page"], _dump_for)


@bp.post("/announcements")
@login_required
def create_announcement() -> tuple[dict, int]:
    """Publish an announcement (admins: anyone; department heads: their departments)."""
    body = json_body(AnnouncementCreate)
    for key in ("publish_at", "expire_at"):
        if body[key] is not None:
            body[key] = parse_moment(body[key], key)
    user = current_user()
    begin_write(db.session)
    row = announcements.create_announcement(db.session, db.session.merge(user), body)
    db.session.commit()
    return _dump_for([row])[0], 201


@bp.get("/announcements/<int:announcement_id>")
@login_required
def get_announcement(announcement_id: int) -> dict:
    """One announcement I may read."""
    return _dump_for([announcements.get_announcement(db.session, current_user(), announcement_id)])[0]


@bp.post("/announcements/<int:announcement_id>/read")
@login_required
def mark_read(announcement_id: int) -> dict:
    """Mark it read by me."""
    user = current_user()
    begin_write(db.session)
    read = announcements.mark_read(db.session, db.session.merge(user), announcement_id)
    db.session.commit()
    return {"announcement_id": read.announcement_id, "user": read.user, "read_at": read.read_at.isoformat()}


@bp.get("/announcements/<int:announcement_id>/readers")
@login_required
def readers(announcement_id: int) -> dict:
    """Who in the audience has read it and who has not (author or admin)."""
    return announcements.readers(db.session, current_user(), announcement_id)
