"""Sending queued channel deliveries (oa.channels): e-mail over SMTP (OAFLOW_SMTP_*) and group robots over
HTTPS with the webhooks' target checks. Claimed under a lease (store.leases) so two senders never send one
twice and none stays stuck in `sending`; failures back off and give up after MAX_ATTEMPTS, as webhook deliveries do."""

from __future__ import annotations

import json
import logging
import os
import smtplib
import time
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import urljoin

from sqlalchemy.orm import Session

from engine.webhook_targets import safe_post
from oa.channels import dingtalk_url, feishu_sign, robot_message
from oa.models import ChannelDelivery, NotificationChannel
from store.base import utcnow
from store.leases import claim, due_ids, sweep_abandoned

log = logging.getLogger("oaflow.channels")
MAX_ATTEMPTS = 8
SMTP_TIMEOUT = 10.0


def _absolute(link: str | None) -> str | None:
    base = os.environ.get("OAFLOW_PUBLIC_URL", "")
    if not link or link.startswith(("http://", "https://")) or not base:
        return link
    return urljoin(base.rstrip("/") + "/", link.lstrip("/"))


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def send_email(to: str, subject: str, body: str, link: str | None) -> None:
    """Send one message through the SMTP server the OAFLOW_SMTP_* settings name."""
    host = os.environ.get("OAFLOW_SMTP_HOST", "")
    if not host:
        raise RuntimeError("OAFLOW_SMTP_HOST is not set")
    msg = EmailMessage()
    msg["From"] = os.environ.get("OAFLOW_SMTP_FROM", "oaflow@localhost")
    msg["To"] = to
    msg["Subject"] = _one_line(subject)
    msg.set_content(body + (f"\n\n{link}" if link else ""))
    with smtplib.SMTP(host, int(os.environ.get("OAFLOW_SMTP_PORT", "25")), timeout=SMTP_TIMEOUT) as smtp:
        if os.environ.get("OAFLOW_SMTP_STARTTLS", "0") == "1":
            smtp.starttls()
        user = os.environ.get("OAFLOW_SMTP_USER")
        if user:
            smtp.login(user, os.environ.get("OAFLOW_SMTP_PASSWORD", ""))
        smtp.send_message(msg)


def _send_robot(channel: NotificationChannel, delivery: ChannelDelivery, allow_private: bool) -> int:
    message = robot_message(channel.kind, delivery.title, delivery.body, _absolute(delivery.link))
    url = channel.target
    if channel.secret and channel.kind == "dingtalk":
        url = dingtalk_url(url, channel.secret, int(time.time() * 1000))
    elif channel.secret and channel.kind == "feishu":
        stamp = int(time.time())
        message = {"timestamp": str(stamp), "sign": feishu_sign(channel.secret, stamp), **message}
    return safe_post(url, json.dumps(message, ensure_ascii=False).encode(),
                     {"Content-Type": "application/json; charset=utf-8"}, allow_private=allow_private)


def deliver_channels(session: Session, allow_private: bool, limit: int = 50) -> int:
    """Send due channel deliveries; returns how many were sent."""
    sent = 0
    sweep_abandoned(session, ChannelDelivery, MAX_ATTEMPTS)
    for delivery_id in due_ids(session, ChannelDelivery, MAX_ATTEMPTS, limit):
        if not claim(session, ChannelDelivery, delivery_id, MAX_ATTEMPTS):
            continue
        delivery = session.get(ChannelDelivery, delivery_id)
        channel = session.get(NotificationChannel, delivery.channel_id)
        if not channel.active:
            delivery.status, delivery.last_error = "refused", "the channel was removed"
            session.commit()
            continue
        try:
            if channel.kind == "email":
                send_email(channel.target, delivery.title, delivery.body, _absolute(delivery.link))
                error = None
            else:
                status = _send_robot(channel, delivery, allow_private)
                error = None if 200 <= status < 300 else f"HTTP {status}"
        except Exception as err:  # any failure is retried later
            error = f"{type(err).__name__}: {err}"[:500]
        if error is None:
            delivery.status, delivery.last_error = "delivered", None
            sent += 1
        else:
            delivery.last_error = error
            delivery.status = "failed" if delivery.attempts >= MAX_ATTEMPTS else "pending"
            delivery.next_attempt_at = utcnow() + timedelta(seconds=min(2 ** delivery.attempts * 5, 3600))
            log.warning("channel %s delivery %s failed (%s)", channel.id, delivery.id, error)
        session.commit()
    return sent
