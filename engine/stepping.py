"""Stepping: run a loaded workflow to its next wait state, recording what the engine passed on the way."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState

from engine.context import CommandContext, EngineLoop
from engine.tasks import tasks_in

GATEWAY_KINDS = ("ExclusiveGateway", "InclusiveGateway", "EventBasedGateway")


def advance(ctx: CommandContext, max_engine_steps: int) -> None:
    """Run engine tasks until only people, timers or messages are awaited (EngineLoop past the bound)."""
    wf = ctx.workflow
    steps = 0

    def did_complete(task: Any) -> None:
        nonlocal steps
        steps += 1
        if steps > max_engine_steps:
            raise EngineLoop(f"stopped after {max_engine_steps} engine steps without reaching a "
                             "wait state (a loop with no user task or timer?)")
        _note_engine_task(ctx, task)

    wf.refresh_timers()
    for _ in range(max_engine_steps):
        wf.do_engine_steps(did_complete_task=did_complete)
        if not any(not t.task_spec.manual for t in tasks_in(wf, TaskState.READY)):
            break


def run_auto_completions(ctx: CommandContext) -> None:
    """Complete the tasks the approver rules approved automatically in this step."""
    pending, ctx.auto_complete = ctx.auto_complete, []
    for task_id, reason in pending:
        spiff_task = ctx.workflow.get_task_from_id(UUID(task_id))
        if spiff_task is None or spiff_task.state != TaskState.READY:
            continue
        spiff_task.data.update({"approved": True, "comment": reason})
        spiff_task.run()
        ctx.completed_by[task_id] = "system"
        ctx.record("task_completed", user=None, task_id=task_id, element_id=spiff_task.task_spec.bpmn_id,
                   comment=reason, data={"variables": {"approved": True}, "automatic": True})


def _note_engine_task(ctx: CommandContext, task: Any) -> None:
    spec = task.task_spec
    kind = type(spec).__name__
    if kind in GATEWAY_KINDS:
        taken = sorted({c.task_spec.bpmn_id or c.task_spec.name for c in task.children
                        if c.state not in (TaskState.MAYBE, TaskState.LIKELY, TaskState.CANCELLED)})
        ctx.record("gateway_passed", user=None, element_id=spec.bpmn_id, data={"taken": taken})
        return
    definition = getattr(spec, "event_definition", None)
    if definition is None or not getattr(spec, "bpmn_id", None):
        return
    dkind = type(definition).__name__
    if "Timer" in dkind:
        ctx.record("timer_fired", user=None, element_id=spec.bpmn_id)
    elif "Message" in dkind and "Catch" in kind or "Message" in dkind and "StartEvent" in kind:
        ctx.record("message_received", user=None, element_id=spec.bpmn_id,
                   data={"message": definition.name})
