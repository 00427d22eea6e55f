"""Cron-style timer cycles (Camunda's Quartz ``0 0/5 * * * ?`` and five-field crontab) for SpiffWorkflow.

SpiffWorkflow only understands ISO 8601 repeating intervals (``R3/PT10M``) as a ``timeCycle``.
:func:`install` (applied once on import) teaches its ``CycleTimerEventDefinition`` to fire on a cron
schedule too; next fire times come from APScheduler's ``CronTrigger`` (in UTC). A cron cycle repeats
without end, like Camunda's. The task's internal data keeps the expression, so a saved instance resumes
its schedule.

Limits, so that a cycle cannot saturate the scheduler or hold the database's write lock:

* at deploy, a literal cycle firing more often than :func:`min_interval_seconds` (``OAFLOW_MIN_TIMER_INTERVAL``,
  default 60 s) is refused (:func:`cycle_interval_problem`); at run time a cycle computed by an expression is
  stretched to that interval;
* a cycle without an end (``R/PT1H``, cron) fires at most :func:`max_firings` times per timer
  (``OAFLOW_MAX_TIMER_FIRINGS``, default 10,000), then completes like a finished ``R3/…`` cycle;
* a cycle that fell behind (server down) fires once and resumes from now, it does not catch up.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition

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


def _env_int(name: str, default: int, lowest: int) -> int:
    try:
        return max(lowest, int(os.environ.get(name, default)))
    except ValueError:
        return default


def min_interval_seconds() -> int:
    """The shortest interval a timer cycle may have (``OAFLOW_MIN_TIMER_INTERVAL``, default 60 s; 0 = none)."""
    return _env_int("OAFLOW_MIN_TIMER_INTERVAL", 60, 0)


def max_firings() -> int:
    """How often one cycle without an end fires at most (``OAFLOW_MAX_TIMER_FIRINGS``, default 10,000)."""
    return _env_int("OAFLOW_MAX_TIMER_FIRINGS", 10_000, 1)


def shortest_cron_gap(value: str, samples: int = 50) -> float | None:
    """The shortest gap in seconds between the next `samples` fire times of cron `value` (None: fires < twice)."""
    trigger = cron_trigger(value)
    previous = trigger.get_next_fire_time(None, datetime.now(UTC))
    gaps: list[float] = []
    for _ in range(samples):
        if previous is None:
            break
        following = trigger.get_next_fire_time(previous, previous + timedelta(microseconds=1))
        if following is None:
            break
        gaps.append((following - previous).total_seconds())
        previous = following
    return min(gaps) if gaps else None


def cycle_interval_problem(value: str) -> str | None:
    """Why the timer cycle `value` (ISO ``R…`` or cron) fires too often, or None when it does not."""
    minimum = min_interval_seconds()
    if is_cron(value):
        gap = shortest_cron_gap(value)
    else:
        cycles, _start, duration = TimerEventDefinition.parse_iso_recurring_interval(value)
        gap = None if cycles in (0, 1) else duration.total_seconds()
    if gap is not None and gap < minimum:
        return (f"it fires every {gap:g} s; timer cycles must be at least {minimum} s apart "
                "(OAFLOW_MIN_TIMER_INTERVAL)")
    return None


def _finish(my_task) -> bool:  # noqa: ANN001
    my_task.internal_data.pop("event_value", None)
    my_task.internal_data["event_fired"] = True
    return False


def _first_value(self, my_task, now: datetime) -> dict | None:  # noqa: ANN001
    expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
    if is_cron(expression):
        first = next_fire(expression, now)
        if first is None:
            return None
        return {"cycles": max_firings(), "next": first.isoformat(), "duration": 0, "cron": expression}
    cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(expression)
    seconds = max(duration.total_seconds(), float(min_interval_seconds()))
    if duration.total_seconds() < seconds:  # stretched: the first firing too
        start = max(start, now + timedelta(seconds=seconds))
    return {"cycles": max_firings() if cycles < 0 else min(cycles, max_firings()), "next": start.isoformat(),
            "duration": seconds}


def _limited_cycle_complete() -> Callable:
    def cycle_complete(self, my_task):  # noqa: ANN001, ANN202 - SpiffWorkflow's signature
        event_value = my_task._get_internal_data("event_value")
        now = datetime.now(UTC)
        if event_value is None:
            event_value = _first_value(self, my_task, now)
            if event_value is None:
                return _finish(my_task)
        if event_value["cycles"] < 0:  # saved before the cap: unbounded
            event_value["cycles"] = max_firings()
        if event_value["cycles"] == 0:
            return _finish(my_task)
        ready = False
        if datetime.fromisoformat(event_value["next"]) < now:
            if "cron" in event_value:
                following = next_fire(event_value["cron"], now)
            else:
                step = timedelta(seconds=max(event_value["duration"], float(min_interval_seconds())))
                following = datetime.fromisoformat(event_value["next"]) + step
                if following < now:  # fell behind: fire once, do not catch up
                    following = now + step
            event_value["cycles"] -= 1
            ready = True
            if following is None:
                event_value["cycles"] = 0
            else:
                event_value["next"] = following.isoformat()
        my_task._set_internal_data(event_value=event_value)
        return ready

    cycle_complete._oaflow_cron = True  # type: ignore[attr-defined]
    return cycle_complete


def install() -> None:
    """Teach SpiffWorkflow's cycle timers cron schedules and the limits above (idempotent)."""
    current = CycleTimerEventDefinition.cycle_complete
    if not getattr(current, "_oaflow_cron", False):
        CycleTimerEventDefinition.cycle_complete = _limited_cycle_complete()


install()
