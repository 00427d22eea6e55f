"""How far back a return (退回) may reach: never across a completed step that wrote records.

A return resets the workflow to an earlier run of a user task; everything after that run is undone in the
state and runs again. A service task whose operation wrote records (an order confirmed, a contract created,
leave in attendance) is not undone by that: running it again refuses (an incident: "order ... is confirmed")
or writes twice. So a run after which such a step completed is no return target. Operations registered with
`writes_records=False` (notify, cc: messages to people) do not bound a return; an unknown operation and an
external task (its worker acted outside) do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.external_spec import ExternalTaskSpec
from engine.services import ServiceRegistry


def _undone(wf: BpmnWorkflow, task: Any, *, keep: Any = None) -> Iterator[Any]:
    """The tasks `wf.reset_from_task_id(task.id)` takes back (as SpiffWorkflow 3.2 does it): the branch from
    the task (every branch of its boundary events), the subprocesses started in it, and, for a task inside a
    subprocess, what ran after the subprocess's own task in its parent."""
    top = task.parent if isinstance(task.parent.task_spec, BoundaryEventSplit) else task
    for desc in top:
        if desc is not task:
            yield desc
        if desc is not keep:
            yield from _inside(wf, desc)
    parent_id = task.workflow.parent_task_id
    if parent_id is not None:
        sp_task = wf.get_task_from_id(parent_id)
        yield from (t for t in _undone(wf, sp_task, keep=sp_task) if t is not sp_task)


def _inside(wf: BpmnWorkflow, task: Any) -> Iterator[Any]:
    """Every task of the subprocess `task` started (and of the subprocesses started in it)."""
    sub = wf.subprocesses.get(task.id)
    if sub is not None:
        for inner in sub.tasks.values():
            yield inner
            yield from _inside(wf, inner)


def _writes_records(task: Any, services: ServiceRegistry) -> bool:
    """True for a completed service step that wrote records."""
    if not task.has_state(TaskState.COMPLETED):
        return False
    spec = task.task_spec
    if isinstance(spec, ExternalTaskSpec):
        return True
    name = getattr(spec, "operation_name", None)
    if not isinstance(name, str):
        return False
    op = services.get(name)
    return op is None or op.writes_records


def writing_step_after(wf: BpmnWorkflow, task: Any, services: ServiceRegistry) -> Any | None:
    """The spec of the first completed record-writing step a return to `task` would cross, else None."""
    for undone in _undone(wf, task):
        if _writes_records(undone, services):
            return undone.task_spec
    return None
