"""The caller's notification inbox: list (optionally unread only), mark one or all read."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import fields

from api.auth import current_user, login_required
from api.extensions import db
from api.http import paginate, query_args
from api.schemas import PageArgs
from engine.runtime import begin_write
from oa import notifications

bp = Blueprint("notifications", __name__)


class NotificationListArgs(PageArgs):
    unread = fields.Boolean(load_default=False)


def dump_notification(row) -> dict:  # noqa: ANN001
    """The JSON form of a notification."""
    return {"id": row.id, "user": row.user, "kind": row.kind, "title": row.title, "body": row.body,
            "link": row.link, "instance_id": row.instance_id,
            "created_at": row.created_at.isoformat(), "read_at": row.read_at.isoformat() if row.read_at else None}


@bp.get("/notifications")
@login_required
def list_notifications() -> dict:
    """My notifications, newest first; ?unread=true for unread only. Adds `unread_count`."""
    args = query_args(NotificationListArgs)
    me = current_user().username
    result = paginate(notifications.inbox_query(me, args["unread"]), args["page"], args["per_page"],
                      lambda rows: [dump_notification(r) for r in rows])
    result["unread_count"] = notifications.unread_count(db.session, me)
    return result


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read_one(notification_id: int) -> dict:
    """Mark one of my notifications read (someone else's: 404)."""
    me = current_user().username
    begin_write(db.session)
    row = notifications.mark_read(db.session, me, notification_id)
    db.session.commit()
    return dump_notification(row)


@bp.post("/notifications/read-all")
@login_required
def read_all() -> dict:
    """Mark all my notifications read."""
    me = current_user().username
    begin_write(db.session)
    changed = notifications.mark_all_read(db.session, me)
    db.session.commit()
    return {"marked_read": changed}
