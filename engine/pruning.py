"""Prune superseded finished tasks from a SpiffWorkflow task tree, so a looping instance keeps a bounded state.

SpiffWorkflow keeps every task it ever ran: an instance that loops grows by a few tasks per iteration, and
every load, run and dump of its state grows with it. oaflow records what happened in its own
``history_event`` table, so the tree only has to hold what SpiffWorkflow itself still reads. This module
splices out finished tasks that sit strictly inside a linear chain of finished tasks and whose element has
run again since, and leaves everything else alone.

A task ``T`` is spliced out (its only child ``C`` takes its place under ``T``'s parent) only if:

1. ``T`` is COMPLETED, is not the root, has a parent and was not created by a trigger (``T.triggered``);
2. ``T`` has exactly one child ``C``; ``C`` is COMPLETED and has children itself, so ``T`` is never the parent
   of a live (waiting, ready, predicted) task nor of a leaf such as a cancelled join;
3. a COMPLETED task of ``T``'s spec finished later in the same workflow (``last_state_change``): the latest
   run of every element stays (退回 resets the latest completed run of an element);
4. ``T`` is not pinned. Pinned are the ``last_task`` of every (sub)workflow (serialized by id; its data is
   the instance's visible variables), every task that has a subworkflow (a key of the top workflow's
   ``subprocesses``) or is registered with the event manager, and every task of a join or of a split that
   joins look up (``UnstructuredJoin``: parallel, inclusive and end joins; ``Join``: boundary- and
   start-event joins; ``EventSplit``) or of a multi-instance / standard loop (their data names children by
   id, and joins read every task of their spec, old or current);
5. the task that ends up in ``T``'s place (``C``, or the first task below it that is not spliced out too)
   does not need its parent. Tasks that need theirs are the ones SpiffWorkflow may reset — a reset task takes
   its data from its parent (``Task.reset_branch``) — or whose parent joins read: tasks of user-task elements
   (any spec carrying a manual task's ``bpmn_id``, which includes multi-instance wrappers), start events,
   subworkflow tasks, join tasks, and the latest completed run of every spec. So every task that stays keeps
   the data a reset gives it, also after a return has undone later runs and an older run became the latest.

Rule 5 is stricter than "keep the latest run": a return (``reset_from_task_id``) into an earlier loop
iteration undoes the latest runs of later elements, and an older run that stayed then becomes the one the
next return picks; had its parent been spliced out, that reset would hand it different data. An older run
that was spliced out is simply gone: a return to it finds no completed run (``return_to`` answers Conflict),
where an unpruned tree would reset into an even earlier iteration.

Splicing keeps what SpiffWorkflow derives from the tree consistent: tasks name their parent and children by
id (``Task._parent``, ``Task._children``), so ``C._parent`` becomes ``T._parent`` and ``C``'s id replaces
``T``'s at the same position in the parent's ``_children``; ``T`` leaves ``workflow.tasks``. Depths are
computed on demand (there is no cache) and ancestry between the tasks that stay is unchanged, so
``is_descendant_of`` / ``find_ancestor`` answer as before for them. The dict order of ``workflow.tasks``
(parents before children, which the serializer's data deltas rely on when loading) is preserved.
``task_removed_event`` is not fired: nothing about the running instance was removed.
"""

from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.bpmn.specs.control import EventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from SpiffWorkflow.workflow import Workflow

#: tasks of these specs are never spliced out (joins read them; loops name their children by id)
_PINNED_SPECS = (UnstructuredJoin, Join, EventSplit, LoopTask)
#: tasks of these specs keep their parent (joins read their parents; start events can be reset)
_PARENT_KEEPING_SPECS = (UnstructuredJoin, Join, StartEvent)


def prune_finished(workflow: BpmnWorkflow) -> int:
    """Splice superseded finished tasks out of `workflow` and all its subworkflows, in place.

    See the module docstring for the exact rule. Runs in time linear in the number of tasks, without
    recursion. Returns how many tasks were removed.
    """
    workflows = [workflow, *workflow.subprocesses.values()]
    subprocess_ids = set(workflow.subprocesses)
    # (a reset inside a subworkflow can leave the top workflow's last_task pointing into that subworkflow)
    pinned = subprocess_ids | set(workflow.event_manager.tasks) | {w.last_task.id for w in workflows if w.last_task}
    return sum(_prune_one(w, subprocess_ids, pinned) for w in workflows)


def _prune_one(workflow: Workflow, subprocess_ids: set[UUID], pinned_ids: set[UUID]) -> int:
    """Prune one (sub)workflow's own task tree; tasks with ids in `pinned_ids` stay."""
    tasks: dict[UUID, Task] = workflow.tasks
    latest: dict[object, float] = {}
    for task in tasks.values():
        if task._state == TaskState.COMPLETED:
            seen = latest.get(task.task_spec)
            if seen is None or task.last_state_change > seen:
                latest[task.task_spec] = task.last_state_change
    manual_ids = {s.bpmn_id for s in workflow.spec.task_specs.values() if s.manual and getattr(s, "bpmn_id", None)}

    def keeps_parent(task: Task) -> bool:
        spec = task.task_spec
        return (task.id in subprocess_ids or isinstance(spec, _PARENT_KEEPING_SPECS)
                or getattr(spec, "bpmn_id", None) in manual_ids
                or (task._state == TaskState.COMPLETED and task.last_state_change >= latest[spec]))

    # candidates by rules 1-4, parents before children (an explicit stack: trees are deep)
    candidates: list[Task] = []
    stack = [workflow.task_tree]
    while stack:
        task = stack.pop()
        if _may_splice(task, tasks, pinned_ids, latest):
            candidates.append(task)
        stack.extend(tasks[c] for c in reversed(task._children) if c in tasks)
    # rule 5, children first: the task that takes T's place is T's child, unless that child goes too
    doomed = {task.id for task in candidates}
    for task in reversed(candidates):
        child = task._children[0]
        if child not in doomed and keeps_parent(tasks[child]):
            doomed.discard(task.id)

    positions: dict[UUID, dict[UUID, int]] = {}  # parent id -> {child id: index in its _children}
    for task in candidates:
        if task.id not in doomed:
            continue
        parent, child = tasks[task._parent], tasks[task._children[0]]
        index = positions.get(parent.id)
        if index is None:
            index = positions[parent.id] = {cid: i for i, cid in enumerate(parent._children)}
        at = index.pop(task.id)
        parent._children[at] = child.id
        index[child.id] = at
        child._parent = parent.id
        positions.pop(task.id, None)
        task._children = []
        del tasks[task.id]
    return len(doomed)


def _may_splice(task: Task, tasks: dict[UUID, Task], pinned_ids: set[UUID], latest: dict[object, float]) -> bool:
    """Rules 1-4: `task` sits strictly inside a chain of finished tasks, its element ran again since, not pinned."""
    if task._state != TaskState.COMPLETED or task.triggered or task.id in pinned_ids:
        return False
    if isinstance(task.task_spec, _PINNED_SPECS) or task._parent not in tasks or len(task._children) != 1:
        return False
    child = tasks.get(task._children[0])
    if child is None or child._state != TaskState.COMPLETED or not child._children or child.triggered:
        return False
    return task.last_state_change < latest[task.task_spec]
