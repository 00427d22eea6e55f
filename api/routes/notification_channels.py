"""Notification channels over HTTP: a user adds e-mail or group-robot channels for themselves; an admin also
for a group (its members' notifications). A robot's secret is accepted, used to sign, and never returned."""

from __future__ import annotations

from flask import Blueprint, current_app
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import func, or_, select

from api.auth import current_principal, login_required
from api.errors import ApiError
from api.extensions import db
from api.http import json_body, paginate, query_args
from api.schemas import PageArgs
from engine.webhook_targets import TargetRefused, check_target
from oa import admin_audit
from oa.channels import EMAIL, KINDS, MAX_CHANNELS_PER_OWNER, ROBOTS
from oa.models import Group, NotificationChannel
from store.errors import NotFound

bp = Blueprint("notification_channels", __name__)


class ChannelRequest(Schema):
    """A channel: kind, target (an e-mail address or the robot's https webhook URL), the robot's signing
    secret (DingTalk, Feishu), and for admins a group whose members' notifications it carries."""

    class Meta:
        unknown = RAISE

    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    target = fields.String(required=True, validate=validate.Length(min=3, max=1000))
    secret = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    group = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=100))

    @validates_schema
    def _target(self, data: dict, **_kw: object) -> None:
        if data["kind"] == "email":
            if not EMAIL.fullmatch(data["target"]):
                raise ValidationError("must be an e-mail address", "target")
            return
        private_ok = current_app.config["OAFLOW_SETTINGS"].webhook_allow_private  # tests, on-premise robots
        if not data["target"].startswith("https://") and not private_ok:
            raise ValidationError("a robot's webhook URL must be https", "target")


def _out(row: NotificationChannel) -> dict:
    return {"id": row.id, "kind": row.kind, "target": row.target, "user": row.owner_user, "group": row.owner_group,
            "has_secret": bool(row.secret), "active": row.active, "created_by": row.created_by,
            "created_at": row.created_at.isoformat()}


def _visible() -> object:
    principal = current_principal()
    query = select(NotificationChannel).where(NotificationChannel.active.is_(True))
    if principal.has_role("admin"):
        return query
    return query.where(or_(NotificationChannel.owner_user == principal.username,
                           NotificationChannel.owner_group.in_(sorted(principal.groups))))


@bp.get("/notification-channels")
@login_required
def list_channels() -> dict:
    """Your channels and your groups' (admins: all); never a secret."""
    args = query_args(PageArgs)
    query = _visible().order_by(NotificationChannel.id)
    return paginate(query, args["page"], args["per_page"], lambda rows: [_out(r) for r in rows])


@bp.post("/notification-channels")
@login_required
def create() -> tuple[dict, int]:
    """Add a channel for yourself (or, as an admin, for a group)."""
    body = json_body(ChannelRequest)
    principal = current_principal()
    group = body["group"]
    if group is not None:
        if not principal.has_role("admin"):
            raise ApiError(403, "Forbidden", "only an admin adds a channel for a group")
        if db.session.scalar(select(Group.id).where(Group.name == group)) is None:
            raise ApiError(422, "Validation failed", "no such group", [{"field": "group", "message": "unknown group"}])
    if body["kind"] in ROBOTS:
        try:
            check_target(body["target"], current_app.config["OAFLOW_SETTINGS"].webhook_allow_private)
        except TargetRefused as err:
            raise ApiError(422, "Validation failed", f"the robot URL is not allowed: {err}",
                           [{"field": "target", "message": str(err)}]) from err
    owner = NotificationChannel.owner_group == group if group else NotificationChannel.owner_user == principal.username
    held = db.session.scalar(select(func.count()).select_from(NotificationChannel).where(
        owner, NotificationChannel.active.is_(True)))
    if held >= MAX_CHANNELS_PER_OWNER:
        raise ApiError(422, "Validation failed", f"at most {MAX_CHANNELS_PER_OWNER} channels each",
                       [{"field": "group" if group else "kind", "message": "too many channels; remove some"}])
    row = NotificationChannel(owner_user=None if group else principal.username, owner_group=group,
                              kind=body["kind"], target=body["target"],
                              secret=body["secret"] if body["kind"] in ROBOTS else None,
                              created_by=principal.username)
    db.session.add(row)
    if admin_audit.channel_audited(row, principal.username):
        admin_audit.channel_created(db.session, principal.username, row)
    db.session.commit()
    return _out(row), 201


@bp.delete("/notification-channels/<int:channel_id>")
@login_required
def delete(channel_id: int) -> tuple[str, int]:
    """Remove one of your channels (admins: any); queued messages for it are dropped."""
    principal = current_principal()
    row = db.session.get(NotificationChannel, channel_id)
    if row is None or not row.active or (row.owner_user != principal.username and not principal.has_role("admin")):
        raise NotFound(f"no notification channel {channel_id}")
    row.active = False
    if admin_audit.channel_audited(row, principal.username):
        admin_audit.channel_deleted(db.session, principal.username, row)
    db.session.commit()
    return "", 204
