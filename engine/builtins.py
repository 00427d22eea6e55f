"""Operations the engine itself offers to service tasks: `cc` (抄送 from the model) and `webhook.post`."""

from __future__ import annotations

import re
from typing import Any

from engine import webhooks
from engine.errors import InvalidData
from engine.executor import CommandExecutor
from engine.models import HistoryEvent, InstanceViewer
from engine.services import ServiceCall, ServiceRegistry
from store.base import insert_on_conflict, utcnow
from store.messages import Message


def register_builtins(registry: ServiceRegistry, engine: CommandExecutor) -> None:
    """Register the engine's own operations into `registry`."""

    def cc(call: ServiceCall) -> dict[str, Any]:
        """Give users (and members of groups) read access to this instance and notify them."""
        directory = engine.directory(call.session)
        named = list(dict.fromkeys(_names(call.params.get("users"))))
        groups = list(dict.fromkeys(_names(call.params.get("groups"))))
        if len(named) > MAX_CC or len(groups) > MAX_CC:
            raise InvalidData(f"cc names at most {MAX_CC} users and {MAX_CC} groups")
        # only people who can log in and read it: an unknown name must not become access for whoever takes the
        # name later, nor a service account's inbox
        users = {u for u in named if directory.is_employee(u)}
        for group in groups:
            users |= {u for u in directory.members_of(group) if directory.is_employee(u)}
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
        title = _cc_title(call.params.get("title"), call.instance_id)
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

    registry.register("cc", cc, params={"users", "groups", "title"}, writes_records=False)
    registry.register("webhook.post", webhook_post, params={"payload"}, required={"event"})


MAX_CC = 50  # users, and groups, one cc step names (as a task's candidates)


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


# a flow's message key may name parameters only as {name}: no format spec ({n:>999999999}), attribute
# ({n.__class__}) or index, which str.format would run when the notification is written and on every reading
_PLAIN_FIELDS = re.compile(r"(?:[^{}]|\{[A-Za-z_][A-Za-z0-9_]{0,39}\})*")


def _cc_title(given: Any, instance_id: int | None) -> str:
    """The CC notification's title: a text as given (shown as written), or {"key": ..., "params": {...}} - a
    message key each reader sees in their language (from the platform's catalogue or the flow's translations
    file) with its parameters - or, without one, "For your information: request #N"."""
    if isinstance(given, dict) and isinstance(given.get("key"), str) and given["key"].strip():
        key = given["key"][:200]
        if not _PLAIN_FIELDS.fullmatch(key):  # a format spec, attribute or index: the flow's text, shown as written
            return key
        params = given.get("params") if isinstance(given.get("params"), dict) else {}
        simple = {str(k)[:40]: v for k, v in list(params.items())[:20]
                  if isinstance(v, str | int | float) and not isinstance(v, bool)}
        return Message(key, **{**simple, "instance": instance_id})
    if given:
        return str(given)
    return Message("For your information: request #{instance}", instance=instance_id)
