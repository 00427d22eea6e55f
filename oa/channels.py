"""Notification channels beside the in-app inbox: each notification is queued (in the step's transaction) for
the channels of its user and of the user's groups; the app's sender delivers the queue. The message formats
of the group robots (WeCom, DingTalk, Feishu markdown) and their signing schemes live here too."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any
from urllib.parse import quote

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from oa.models import ChannelDelivery, Group, NotificationChannel, User, user_group

KINDS = ("email", "wecom", "dingtalk", "feishu")
ROBOTS = ("wecom", "dingtalk", "feishu")
MAX_CHANNELS_PER_OWNER = 20
EMAIL = re.compile(r"[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,}")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")


def channels_for(session: Session, username: str) -> list[NotificationChannel]:
    """The active channels a notification for `username` goes to: theirs and their groups'."""
    groups = select(Group.name).join(user_group, user_group.c.group_id == Group.id).join(
        User, User.id == user_group.c.user_id).where(User.username == username)
    return list(session.scalars(select(NotificationChannel).where(
        NotificationChannel.active.is_(True),
        or_(NotificationChannel.owner_user == username, NotificationChannel.owner_group.in_(groups)))
        .order_by(NotificationChannel.id)))


def fan_out(session: Session, note: Any) -> int:
    """Queue notification `note` (user, title, body, link) for its user's channels; returns how many."""
    count = 0
    for channel in channels_for(session, note.user):
        session.add(ChannelDelivery(channel_id=channel.id, user=note.user, title=note.title[:200],
                                    body=(note.body or "")[:4000], link=note.link))
        count += 1
    return count


def escape_markdown(text: str) -> str:
    """`text` with markdown's special characters escaped, so a title cannot forge links or formatting."""
    return _MARKDOWN.sub(r"\\\1", text)


def _markdown(title: str, body: str, link: str | None) -> str:
    text = f"**{escape_markdown(title)}**"
    if body:
        text += "\n\n" + escape_markdown(body)
    if link:
        text += f"\n\n[Open]({quote(link, safe=':/?&=#%')})"
    return text


def robot_message(kind: str, title: str, body: str, link: str | None) -> dict[str, Any]:
    """The JSON a robot of `kind` documents for a markdown message with a link."""
    text = _markdown(title, body, link)
    if kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": text}}
    if kind == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title[:100], "text": text}}
    if kind == "feishu":
        return {"msg_type": "interactive", "card": {
            "header": {"title": {"tag": "plain_text", "content": title[:100]}},
            "elements": [{"tag": "markdown", "content": text}]}}
    raise ValueError(f"not a robot: {kind}")


def dingtalk_url(target: str, secret: str, timestamp_ms: int) -> str:
    """DingTalk's signed URL: timestamp and sign = base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>"))."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    sign = quote(base64.b64encode(mac).decode(), safe="")
    return f"{target}{'&' if '?' in target else '?'}timestamp={timestamp_ms}&sign={sign}"


def feishu_sign(secret: str, timestamp: int) -> str:
    """Feishu's signature: base64(HMAC-SHA256 keyed with "<timestamp>\\n<secret>" over an empty message)."""
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(mac).decode()
