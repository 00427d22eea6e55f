"""Operations the engine itself offers to service tasks: `cc` (抄送 from the model) and `webhook.post`."""

from __future__ import annotations

from typing import Any

from engine import webhooks
from engine.errors import InvalidData
from engine.executor import CommandExecutor
from engine.models import HistoryEvent, InstanceViewer
from engine.services import ServiceCall, ServiceRegistry
from store.base import insert_on_conflict, utcnow


def register_builtins(registry: ServiceRegistry, engine: CommandExecutor) -> None:
    """Register the engine's own operations into `registry`."""

    def cc(call: ServiceCall) -> dict[str, Any]:
        """Give users (and members of groups) read access to this instance and notify them."""
        directory = engine.directory(call.session)
        users = set(_names(call.params.get("users")))
        for group in _names(call.params.get("groups")):
            users |= directory.members_of(group)
        users.discard(call.started_by or "")
        added = []
        if users:  # one statement: the users not yet viewing are added, and only they come back
            added = sorted(call.session.scalars(
                insert_on_conflict(call.session, InstanceViewer.__table__, ["instance_id", "username"])
                .returning(InstanceViewer.__table__.c.username),
                [{"instance_id": call.instance_id, "username": u, "added_by": None, "added_at": utcnow()}
                 for u in sorted(users)]))
        if call.record is not None:
            call.record("cc", data={"users": added})
        else:
            call.session.add(HistoryEvent(instance_id=call.instance_id, type="cc", user=None, data={"users": added}))
        title = str(call.params.get("title") or f"For your information: request #{call.instance_id}")
        if call.notify is not None:  # with the step's other notifications
            call.notify(added, "cc", title, "")
        else:
            engine.deliver_notices(call.session, [(u, "cc", title, "") for u in added], call.instance_id)
        return {"cc": added}

    def webhook_post(call: ServiceCall) -> dict[str, Any]:
        """Queue an event for the registered webhooks (sent after the step commits)."""
        event = str(call.params["event"])
        if not webhooks.valid_event_name(event):
            raise InvalidData(f"webhook event name '{event[:100]}' must match {webhooks.EVENT_NAME.pattern}")
        payload = call.params.get("payload")
        data = {"instance_id": call.instance_id, "business_key": call.business_key,
                "payload": payload if isinstance(payload, dict) else {"value": payload}}
        return {"queued": webhooks.enqueue(call.session, event, data)}

    registry.register("cc", cc, params={"users", "groups", "title"})
    registry.register("webhook.post", webhook_post, params={"payload"}, required={"event"})


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]
