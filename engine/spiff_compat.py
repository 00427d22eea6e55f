"""Work-arounds for SpiffWorkflow 3.2 behaviour the engine cannot accept, applied once on import.

`TaskIterator` stops descending at depth 1,000 by default. Every finished task stays in the task tree,
so an instance that loops (a revise-and-resubmit cycle, a long-lived polling loop) passes that depth
after a few hundred iterations; from then on `get_tasks()` no longer sees the waiting tasks and
`is_completed()` answers True — the instance silently "completes". The iterator walks the tree with
an explicit stack (no recursion), so lifting the default depth is safe.
"""

from __future__ import annotations

from collections.abc import Callable

from SpiffWorkflow.bpmn.util import task as _bpmn_task_util
from SpiffWorkflow.util import task as _task_util

MAX_TREE_DEPTH = 10_000_000


def _lift_depth(cls: type) -> None:
    original: Callable = cls.__init__
    if getattr(original, "_oaflow_lifted", False):
        return

    def __init__(self, task, end_at_spec=None, max_depth=MAX_TREE_DEPTH, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, N807
        original(self, task, end_at_spec, max(max_depth, MAX_TREE_DEPTH), *args, **kwargs)

    __init__._oaflow_lifted = True  # type: ignore[attr-defined]
    cls.__init__ = __init__


_lift_depth(_task_util.TaskIterator)
_lift_depth(_bpmn_task_util.BpmnTaskIterator)
