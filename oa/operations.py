"""OA operations that BPMN service tasks may call (registered into the engine by the app factory)."""

from __future__ import annotations

import logging
from typing import Any

from engine.services import ServiceCall, ServiceRegistry

log = logging.getLogger("oaflow.oa")


def notify(call: ServiceCall) -> dict[str, Any]:
    """Log a notification for a user (the in-app inbox arrives with the notifications issue)."""
    log.info("notify %s: %s", call.params.get("user"), call.params.get("message"))
    return {"notified": call.params.get("user")}


def register(registry: ServiceRegistry) -> None:
    """Register the OA operations."""
    registry.register("notify", notify, params={"user", "message"}, required={"user", "message"})
