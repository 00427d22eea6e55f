"""The external-task projection: one `external_task` row per external service task the state has waiting."""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select

from engine.context import CommandContext
from engine.external_spec import ExternalTaskSpec
from engine.models import ExternalTask
from engine.tasks import tasks_in

MAX_SNAPSHOT_BYTES = 256 * 1024


def waiting_external(ctx: CommandContext) -> dict[str, Any]:
    """The workflow's external tasks waiting for a worker, by task id."""
    started = tasks_in(ctx.workflow, TaskState.STARTED)
    return {str(t.id): t for t in started if isinstance(t.task_spec, ExternalTaskSpec)}


def _snapshot(data: dict) -> dict:
    """The task's variables as JSON (values JSON cannot hold become text); capped in size."""
    text = json.dumps({k: v for k, v in data.items() if not str(k).startswith("_")}, default=str)
    return json.loads(text) if len(text) <= MAX_SNAPSHOT_BYTES else {}


def sync_external_tasks(ctx: CommandContext) -> None:
    """Insert rows for newly reached external tasks and delete those no longer waiting (same transaction;
    run after the instance is saved)."""
    session = ctx.session
    waiting = waiting_external(ctx) if ctx.instance.status in ("running", "error") else {}
    known = set(session.scalars(select(ExternalTask.id).where(ExternalTask.instance_id == ctx.instance.id)))
    gone = known - set(waiting)
    if gone:
        session.execute(delete(ExternalTask).where(ExternalTask.id.in_(sorted(gone))))
    for task_id, task in waiting.items():
        if task_id in known:
            continue
        spec = task.task_spec
        session.add(ExternalTask(id=task_id, instance_id=ctx.instance.id, process_key=ctx.instance.process_key,
                                 element_id=spec.bpmn_id, topic=spec.topic, priority=spec.priority,
                                 variables=_snapshot(task.data)))
    session.flush()
