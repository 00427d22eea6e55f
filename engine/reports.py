"""Read-only queries over the engine tables for the approval-efficiency report.

Cycle time of a task = completed_at - created_at, in hours. Per process key and per approver (the user who
completed the task) the report gives the count, the median and the 90th percentile (nearest-rank: the value
at position ceil(0.9 * n) of the sorted times). Overdue open tasks are open tasks whose due_at < now.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.models import Task


def p90(values: list[float]) -> float:
    """The nearest-rank 90th percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


def _summary(key_name: str, groups: dict[str, list[float]]) -> list[dict[str, Any]]:
    return [{key_name: key, "completed": len(hours), "median_hours": round(statistics.median(hours), 2),
             "p90_hours": round(p90(hours), 2)} for key, hours in sorted(groups.items())]


def approval_efficiency(session: Session, now: datetime, *, since: datetime | None = None,
                        until: datetime | None = None, approvers: Iterable[str] | None = None) -> dict[str, Any]:
    """Cycle times of completed tasks (completed in [since, until)) per process and per approver, and the open
    tasks that are overdue at `now`. `approvers` limits the report to tasks those users completed or hold
    (None = everyone)."""
    names = sorted(set(approvers)) if approvers is not None else None
    query = select(Task.process_key, Task.completed_by, Task.created_at, Task.completed_at).where(
        Task.status == "completed", Task.completed_at.is_not(None))
    if since is not None:
        query = query.where(Task.completed_at >= since)
    if until is not None:
        query = query.where(Task.completed_at < until)
    if names is not None:
        query = query.where(Task.completed_by.in_(names))
    by_process: dict[str, list[float]] = defaultdict(list)
    by_approver: dict[str, list[float]] = defaultdict(list)
    for row in session.execute(query):
        hours = max((row.completed_at - row.created_at).total_seconds(), 0) / 3600
        by_process[row.process_key].append(hours)
        by_approver[row.completed_by or "(unknown)"].append(hours)
    overdue_q = select(Task).where(Task.status == "open", Task.due_at.is_not(None), Task.due_at < now)
    if names is not None:
        from engine.models import TaskCandidate
        candidates = select(TaskCandidate.task_id).where(TaskCandidate.kind == "user", TaskCandidate.value.in_(names))
        overdue_q = overdue_q.where(or_(Task.assignee.in_(names), Task.id.in_(candidates)))
    overdue = [{"task_id": t.id, "process_key": t.process_key, "name": t.name, "assignee": t.assignee,
                "instance_id": t.instance_id, "due_at": t.due_at.isoformat(),
                "overdue_hours": round((now - t.due_at).total_seconds() / 3600, 2)}
               for t in session.scalars(overdue_q.order_by(Task.due_at).limit(1000))]
    return {"by_process": _summary("process_key", by_process), "by_approver": _summary("approver", by_approver),
            "overdue_open_tasks": overdue, "overdue_count": len(overdue)}
