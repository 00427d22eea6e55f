"""The administration audit trail: one row per change to a user, department, group, API key, webhook or a
shared notification channel —
when, who, what, and the changed fields old -> new. Never a secret: a password, API key or signing secret
is recorded only as "set" or "changed". The caller commits, so a row lives or dies with its change."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from engine.models import Webhook
from oa.models import AdminAuditEntry, ApiKey, Department, Group, NotificationChannel, User
from store.base import utcnow

OBJECT_TYPES = ("user", "department", "group", "api_key", "webhook", "notification_channel")
ACTIONS = ("created", "updated", "deactivated", "reactivated", "password_reset", "unlocked", "revoked",
           "deleted", "members_changed")
SET, CHANGED = "set", "changed"  # what a secret field reads as
CLI = "cli"  # the actor of a command-line change
MAX_VALUE = 500


def _plain(value: Any) -> Any:
    """A JSON-safe, bounded form of a field value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return value[:MAX_VALUE]
    return value


def _shown(value: Any) -> str:
    if value is None or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """{field: (old, new)} for the fields whose value differs between two snapshots."""
    return {key: (before.get(key), after[key]) for key in after if before.get(key) != after[key]}


def record(session: Session, actor: str, object_type: str, object_id: int, object_name: str, action: str,
           changes: dict[str, tuple[Any, Any]] | None = None) -> AdminAuditEntry:
    """Add one audit row to the session (the caller commits it with the change)."""
    if object_type not in OBJECT_TYPES:
        raise ValueError(f"unknown audited object type {object_type!r}")
    stored = {field: [_plain(old), _plain(new)] for field, (old, new) in (changes or {}).items()}
    summary = "; ".join(f"{field}: {_shown(old)} → {_shown(new)}" for field, (old, new) in stored.items())
    row = AdminAuditEntry(at=utcnow(), actor=(actor or CLI)[:100], object_type=object_type, object_id=object_id,
                          object_name=(object_name or "")[:300], action=action, changes=stored,
                          summary=summary[:2000])
    session.add(row)
    return row


def user_name(user: User) -> str:
    """A user as the trail names them: username (display name)."""
    return f"{user.username} ({user.display_name})" if user.display_name else user.username


def user_fields(user: User) -> dict[str, Any]:
    """The audited fields of a user, readable (names, not ids); never the password hash."""
    return {"display_name": user.display_name, "email": user.email, "roles": sorted(user.roles or []),
            "department": user.department.name if user.department else None,
            "manager": user.manager.username if user.manager else None,
            "groups": sorted(g.name for g in user.groups), "active": bool(user.active),
            "start_date": user.start_date.isoformat() if user.start_date else None}


def department_fields(dept: Department) -> dict[str, Any]:
    """The audited fields of a department, readable (names, not ids)."""
    return {"name": dept.name, "parent": dept.parent.name if dept.parent else None,
            "head": dept.head.username if dept.head else None, "active": bool(dept.active)}


def group_members(group: Group) -> list[str]:
    """A group's members by username, sorted."""
    return sorted(u.username for u in group.members)


def api_key_name(key: ApiKey) -> str:
    """An API key as the trail names it: name [prefix] (never the secret)."""
    return f"{key.name} [{key.prefix}]"


def api_key_created(session: Session, actor: str, key: ApiKey) -> AdminAuditEntry:
    """Record a new API key: owner, scopes, act-as and expiry; the key itself only as "set"."""
    session.flush()
    return record(session, actor, "api_key", key.id, api_key_name(key), "created", diff({}, {
        "user": session.get(User, key.user_id).username,
        "scopes": list(key.scopes or []), "act_as": bool(key.act_as), "expires_at": key.expires_at,
        "prefix": key.prefix, "key": SET}))


def api_key_revoked(session: Session, actor: str, key: ApiKey) -> AdminAuditEntry:
    """Record that an API key was revoked."""
    return record(session, actor, "api_key", key.id, api_key_name(key), "revoked", {"revoked": (False, True)})


def redacted_url(url: str) -> str:
    """A URL without what may be a credential: the user-info password, every path segment after the first
    (Slack, Discord and Teams hooks carry their token in the path, some a `;token=`), every query value (and a
    bare query) become `***`; the fragment goes. Scheme, host and the first segment still say where it goes."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}:***@{host}" if ":" in userinfo else f"***@{host}"
    segments = parts.path.split("/")  # "/a/b" -> ["", "a", "b"]
    first = segments[1].split(";", 1)[0] if len(segments) > 1 else ""
    path = "/".join(["", first] + ["***"] * (len(segments) - 2)) if len(segments) > 1 else parts.path
    if len(segments) > 1 and ";" in segments[1]:
        path = path.replace(f"/{first}", f"/{first};***", 1)
    query = urlencode([(k if v else "***", "***") for k, v in parse_qsl(parts.query, keep_blank_values=True)],
                      safe="*")
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def credentials_masked(url: str) -> str:
    """A URL with its user-info password and every query value as `***` (the path kept): how a webhook still in
    use is listed - where it goes, without the token that opens it."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}:***@{host}" if ":" in userinfo else netloc
    query = urlencode([(k, "***") for k, _v in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def webhook_created(session: Session, actor: str, hook: Webhook) -> AdminAuditEntry:
    """Record a new webhook: URL (credentials masked) and events; the signing secret only as "set"."""
    session.flush()
    url = redacted_url(hook.url)
    return record(session, actor, "webhook", hook.id, url, "created",
                  {"url": (None, url), "events": (None, list(hook.events or [])), "secret": (None, SET)})


def webhook_deleted(session: Session, actor: str, hook: Webhook) -> AdminAuditEntry:
    """Record that a webhook was removed (deactivated: no more deliveries)."""
    return record(session, actor, "webhook", hook.id, redacted_url(hook.url), "deleted", {"active": (True, False)})


def channel_name(channel: NotificationChannel) -> str:
    """A channel as the trail names it: kind -> its target (a robot's URL with credentials masked)."""
    target = channel.target if channel.kind == "email" else redacted_url(channel.target)
    return f"{channel.kind} -> {target}"[:MAX_VALUE]


def channel_audited(channel: NotificationChannel, actor: str) -> bool:
    """Whether a channel change is an administration change: a group's channel (its members' notifications go
    there), or an admin acting on someone else's. A user's own channel is their own setting."""
    return channel.owner_group is not None or (channel.owner_user is not None and channel.owner_user != actor)


def channel_created(session: Session, actor: str, channel: NotificationChannel) -> AdminAuditEntry:
    """Record a new shared channel: kind, target (masked), group; a robot's signing secret only as "set"."""
    session.flush()
    after = {"kind": channel.kind, "target": channel_name(channel).split(" -> ", 1)[1],
             "group": channel.owner_group, "user": channel.owner_user}
    if channel.secret:
        after["secret"] = SET
    return record(session, actor, "notification_channel", channel.id, channel_name(channel), "created",
                  diff({}, {k: v for k, v in after.items() if v is not None}))


def channel_deleted(session: Session, actor: str, channel: NotificationChannel) -> AdminAuditEntry:
    """Record that a shared channel (or another user's) was removed."""
    return record(session, actor, "notification_channel", channel.id, channel_name(channel), "deleted",
                  {"active": (True, False)})


def entries_query(*, actor: str | None = None, object_type: str | None = None, action: str | None = None,
                  start: date | None = None, end: date | None = None) -> Select:
    """Administration audit rows, newest first, filtered by actor, object type, action and a date range
    (both days included)."""
    query = select(AdminAuditEntry).order_by(AdminAuditEntry.id.desc())
    if actor:
        query = query.where(AdminAuditEntry.actor == actor)
    if object_type:
        query = query.where(AdminAuditEntry.object_type == object_type)
    if action:
        query = query.where(AdminAuditEntry.action == action)
    if start:
        query = query.where(AdminAuditEntry.at >= datetime.combine(start, time.min))
    if end:
        query = query.where(AdminAuditEntry.at <= datetime.combine(end, time.max))
    return query


def as_dict(entry: AdminAuditEntry) -> dict[str, Any]:
    """JSON shape of one administration audit row."""
    return {"id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor, "object_type": entry.object_type,
            "object_id": entry.object_id, "object_name": entry.object_name, "action": entry.action,
            "changes": {field: {"old": old, "new": new} for field, (old, new) in (entry.changes or {}).items()}}
