"""A webhook or channel delivery claimed by a sender that dies before finishing (a crash, SQLite's "database is
locked" on the final commit) is sent again once its lease ends, never stuck in `sending` (issue #17)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from api.extensions import db
from api.scheduler import deliver_webhooks_once
from api.webhook_policy import delivery_policy
from engine.models import WebhookDelivery
from engine.webhooks import MAX_ATTEMPTS, deliver_pending
from oa.models import ChannelDelivery, NotificationChannel
from store.base import utcnow
from store.leases import claim
from tests.conftest import leave_span


class Crash(BaseException):
    """The sender process dying between claim and finish (no handler of ordinary errors catches it)."""


def _queue_one(api) -> int:  # noqa: ANN001
    app = api.app
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True  # the posts below never leave the test
    hook = api.post("/api/v1/webhooks", "admin", json={"url": "http://127.0.0.1:9/x", "events": ["task.created"]})
    assert hook.status_code == 201, hook.get_json()
    started = api.post("/api/v1/process-definitions/leave_request/start", "alice",
                       json={"variables": {"leave_type": "annual", "reason": "trip", **leave_span(1)}})
    assert started.status_code == 201
    with db.session.begin():
        return db.session.scalars(select(WebhookDelivery.id)).one()


def _row(delivery_id: int) -> WebhookDelivery:
    db.session.expire_all()
    return db.session.get(WebhookDelivery, delivery_id)


def _end_lease(model, row_id: int) -> None:  # noqa: ANN001
    db.session.execute(update(model).where(model.id == row_id).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_a_crash_between_claim_and_finish_is_retried_after_the_lease(api, app) -> None:  # noqa: ANN001
    sent: list = []

    def crash(url, body, headers):  # noqa: ANN001, ANN202
        raise Crash

    def ok(url, body, headers):  # noqa: ANN001, ANN202
        sent.append(url)
        return 204

    with app.app_context():
        delivery_id = _queue_one(api)
        policy = delivery_policy(app)
        with pytest.raises(Crash):
            deliver_pending(db.session, policy, post=crash)
        db.session.rollback()
        assert _row(delivery_id).status == "sending" and _row(delivery_id).attempts == 1
        assert deliver_pending(db.session, policy, post=ok) == 0 and sent == []  # the lease still holds
        _end_lease(WebhookDelivery, delivery_id)
        assert deliver_pending(db.session, policy, post=ok) == 1 and len(sent) == 1
        row = _row(delivery_id)
        assert (row.status, row.attempts) == ("delivered", 2)
        assert deliver_webhooks_once(app) == 0  # sent once only


def test_two_senders_claim_a_due_row_once_and_spent_attempts_end_as_failed(api, app) -> None:  # noqa: ANN001
    with app.app_context():
        delivery_id = _queue_one(api)
        assert claim(db.session, WebhookDelivery, delivery_id, MAX_ATTEMPTS)
        assert not claim(db.session, WebhookDelivery, delivery_id, MAX_ATTEMPTS)  # leased to the first
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(
            attempts=MAX_ATTEMPTS, next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert deliver_pending(db.session, delivery_policy(app), post=lambda *a: 204) == 0
        row = _row(delivery_id)
        assert row.status == "failed" and "stopped before finishing" in row.last_error


def test_a_channel_delivery_left_sending_is_sent_after_its_lease(api, app, monkeypatch) -> None:  # noqa: ANN001
    from api import channel_delivery
    sent: list = []
    monkeypatch.setattr(channel_delivery, "send_email", lambda to, *a: sent.append(to))
    assert api.post("/api/v1/notification-channels", "bob",
                    json={"kind": "email", "target": "bob@example.com"}).status_code == 201
    api.post("/api/v1/process-definitions/leave_request/start", "alice",
             json={"variables": {"leave_type": "annual", "reason": "trip", **leave_span(1)}})
    with app.app_context():
        [row_id] = db.session.scalars(select(ChannelDelivery.id)).all()
        assert claim(db.session, ChannelDelivery, row_id, channel_delivery.MAX_ATTEMPTS)  # ... and then dies
        assert channel_delivery.deliver_channels(db.session, False) == 0
        _end_lease(ChannelDelivery, row_id)
        assert channel_delivery.deliver_channels(db.session, False) == 1 and sent == ["bob@example.com"]
        assert db.session.get(ChannelDelivery, row_id).status == "delivered"
        assert db.session.scalars(select(NotificationChannel.kind)).all() == ["email"]
