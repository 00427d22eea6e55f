"""Cron-style timer cycles (Camunda's Quartz ``0 0/5 * * * ?`` and five-field crontab) for SpiffWorkflow.

SpiffWorkflow only understands ISO 8601 repeating intervals (``R3/PT10M``) as a ``timeCycle``.
:func:`install` (applied once on import) teaches its ``CycleTimerEventDefinition`` to fire on a cron
schedule too; next fire times come from APScheduler's ``CronTrigger`` (in UTC). A cron cycle repeats
without end, like Camunda's. The task's internal data keeps the expression, so a saved instance resumes
its schedule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.triggers.cron import CronTrigger
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition

MAX_CRON_LENGTH = 200
_FIELD_RE = re.compile(r"^[0-9A-Za-z*?/,#\-]+$")
_NUMERIC_FIELD_RE = re.compile(r"^[0-9*/,\-]+$")  # seconds/minutes: never a Python name
_QUARTZ_DOW = {"1": "sun", "2": "mon", "3": "tue", "4": "wed", "5": "thu", "6": "fri", "7": "sat"}


def is_cron(value: object) -> bool:
    """True if `value` looks like a cron expression (5 fields crontab, 6-7 fields Quartz)."""
    if not isinstance(value, str) or len(value) > MAX_CRON_LENGTH:
        return False
    fields = value.split()
    if not 5 <= len(fields) <= 7 or value.strip()[:1].upper() in ("R", "P"):
        return False
    return (all(_FIELD_RE.match(f) for f in fields) and all(_NUMERIC_FIELD_RE.match(f) for f in fields[:2])
            and any(c in value for c in "*?/"))


def cron_trigger(value: str) -> CronTrigger:
    """The APScheduler trigger of a cron expression; raises ValueError when it is not valid."""
    fields = value.split()
    if len(fields) == 5:
        return CronTrigger.from_crontab(value, timezone=UTC)
    if not 6 <= len(fields) <= 7:
        raise ValueError("a cron expression has 5 (crontab) or 6-7 (Quartz) fields")
    second, minute, hour, day, month, dow = (f.replace("?", "*") for f in fields[:6])
    if any(c in "".join(fields) for c in "LW#"):
        raise ValueError("Quartz L, W and # are not supported")
    dow = re.sub(r"\b[1-7]\b", lambda m: _QUARTZ_DOW[m.group(0)], dow)  # Quartz counts Sunday as 1
    year = fields[6].replace("?", "*") if len(fields) == 7 else None
    return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month, day_of_week=dow,
                       year=year, timezone=UTC)


def next_fire(value: str, after: datetime) -> datetime | None:
    """The first fire time of cron `value` strictly after `after` (None when it never fires again)."""
    return cron_trigger(value).get_next_fire_time(None, after)


def check_cron(value: str) -> str | None:
    """None if `value` is a usable cron expression, else why not."""
    try:
        if next_fire(value, datetime.now(UTC)) is None:
            return "the cron expression never fires"
    except (ValueError, TypeError, KeyError) as exc:
        return str(exc) or type(exc).__name__
    return None


def _cron_cycle_complete(original: Callable) -> Callable:
    def cycle_complete(self, my_task):  # noqa: ANN001, ANN202 - SpiffWorkflow's signature
        event_value = my_task._get_internal_data("event_value")
        now = datetime.now(UTC)
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            if not is_cron(expression):
                return original(self, my_task)
            first = next_fire(expression, now)
            event_value = {"cycles": -1, "next": first.isoformat(), "duration": 0, "cron": expression}
        elif "cron" not in event_value:
            return original(self, my_task)
        ready = False
        if datetime.fromisoformat(event_value["next"]) < now:
            following = next_fire(event_value["cron"], now)
            if following is None:
                my_task.internal_data.pop("event_value", None)
                my_task.internal_data["event_fired"] = True
                return True
            event_value["next"] = following.isoformat()
            ready = True
        my_task._set_internal_data(event_value=event_value)
        return ready

    cycle_complete._oaflow_cron = True  # type: ignore[attr-defined]
    return cycle_complete


def install() -> None:
    """Teach SpiffWorkflow's cycle timers cron schedules (idempotent)."""
    current = CycleTimerEventDefinition.cycle_complete
    if not getattr(current, "_oaflow_cron", False):
        CycleTimerEventDefinition.cycle_complete = _cron_cycle_complete(current)


install()
