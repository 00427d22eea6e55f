"""Instance-ended hooks: domain listeners told when an instance of their process ends without reaching an end
event, so a record the flow holds (an order `pending`, …) is let go.

The app factory plugs domain listeners in by process key (the engine knows no domain, as with start checks).
How it ended is one of ENDINGS: `withdrawn` (the applicant took it back), `cancelled` (by its starter),
`terminated` (cancelled by an administrator who did not start it) or `incident_cancelled` (an instance stopped
at an incident, then cancelled). A hook runs inside the command's transaction after the step is saved: what it
writes commits with the cancellation, and if it raises, nothing of either is written.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from engine.models import ProcessInstance

ENDINGS = ("withdrawn", "cancelled", "terminated", "incident_cancelled")

# hook(session, the ended instance, how it ended (one of ENDINGS), username of who ended it)
InstanceEndHook = Callable[[Session, ProcessInstance, str, str | None], None]


class InstanceEndHooks:
    """Instance-ended hooks by process key."""

    def __init__(self) -> None:
        self._hooks: dict[str, list[InstanceEndHook]] = {}

    def register(self, key: str, hook: InstanceEndHook) -> None:
        """Call `hook` whenever an instance of process `key` ends in one of ENDINGS."""
        self._hooks.setdefault(key, []).append(hook)

    def run(self, session: Session, instance: ProcessInstance, how: str, user: str | None) -> None:
        """Tell the hooks of the instance's process that it ended `how`."""
        if how not in ENDINGS:
            raise ValueError(f"unknown ending {how}")
        for hook in self._hooks.get(instance.process_key, ()):
            hook(session, instance, how, user)


def ending_of(status_before: str, started_by: str | None, username: str, is_admin: bool) -> str:
    """How a cancellation by `username` ends an instance that was `status_before`."""
    if status_before == "error":
        return "incident_cancelled"
    if is_admin and started_by != username:
        return "terminated"
    return "cancelled"
