"""The active webhooks are read once per ACTIVE_HOOKS.ttl_seconds per worker, not once per step: a change made
through this worker applies at once, a change made by another worker or host within the TTL."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, func, insert, select

from engine import webhooks
from engine.models import Webhook, WebhookDelivery


def _deliveries(app) -> int:  # noqa: ANN001
    from api.extensions import db
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(WebhookDelivery))
        db.session.remove()
        return n


def test_webhooks_changed_through_this_worker_apply_at_once(api, app, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(webhooks.ACTIVE_HOOKS, "ttl_seconds", 3600.0)  # only an invalidation can make it re-read
    app.config["OAFLOW_SETTINGS"].webhook_allow_private = True  # the target is on loopback
    assert api.start_leave("alice").status_code == 201  # the (empty) list is now cached
    api.use_api_key("erp")
    hook = api.post("/api/v1/webhooks", "erp", json={"url": "http://127.0.0.1:9/hook", "events": ["task.created"]})
    assert hook.status_code == 201
    assert api.start_leave("alice").status_code == 201
    assert _deliveries(app) == 1
    assert api.client.delete(f"/api/v1/webhooks/{hook.get_json()['id']}", headers=api.headers("erp")).status_code == 204
    assert api.start_leave("alice").status_code == 201
    assert _deliveries(app) == 1


def test_a_webhook_registered_by_another_worker_gets_events_within_the_ttl(api, app, database_url,  # noqa: ANN001
                                                                           monkeypatch) -> None:
    monkeypatch.setattr(webhooks.ACTIVE_HOOKS, "ttl_seconds", 0.5)
    assert api.start_leave("alice").status_code == 201  # the (empty) list is now cached
    other = create_engine(database_url)  # another worker's connection: this process sees no commit of its own
    with other.begin() as conn:
        conn.execute(insert(Webhook.__table__).values(url="http://127.0.0.1:9/hook", events=["task.created"],
                                                      secret="s", created_by="erp", active=True))
    other.dispose()
    time.sleep(0.6)
    assert api.start_leave("alice").status_code == 201
    assert _deliveries(app) == 1
