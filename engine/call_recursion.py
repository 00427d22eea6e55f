"""Call activities that call their own process, directly (A → A) or through a cycle (A → B → A).

* At deploy, :func:`recursion_problems` finds the cycles visible inside one bundle and reports a warning on
  each call activity that closes one (recursion that a gateway ends is legal BPMN, so it is not refused).
  A cycle through a process of another deployment is not visible there; the run-time cap catches it.
* At run time, :func:`install` (applied once on import) makes SpiffWorkflow refuse to start a call activity
  nested deeper than :data:`MAX_CALL_DEPTH` call activities: the instance stops with an incident naming
  the depth, instead of building sub-workflows until the step budget runs out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity, SubWorkflowTask

from engine.bpmn_syntax import BPMN_NS
from engine.problems import Problem

MAX_CALL_DEPTH = 10


def _calls(process: etree._Element) -> list[etree._Element]:
    return [c for c in process.iter(f"{{{BPMN_NS}}}callActivity") if c.get("calledElement")]


def _path(graph: Mapping[str, set[str]], start: str, goal: str) -> list[str] | None:
    """A shortest call path from `start` to `goal` (breadth first), or None."""
    previous: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        current = queue.pop(0)
        if current == goal:
            path = [current]
            while previous[path[-1]] is not None:
                path.append(previous[path[-1]])  # type: ignore[arg-type]
            return path[::-1]
        for nxt in sorted(graph.get(current, ())):
            if nxt not in previous:
                previous[nxt] = current
                queue.append(nxt)
    return None


def recursion_problems(process_nodes: Mapping[str, etree._Element], process_files: Mapping[str, str]) -> list[Problem]:
    """A warning on every call activity that closes a call cycle among the bundle's processes."""
    graph = {pid: {c.get("calledElement") for c in _calls(node)} for pid, node in process_nodes.items()}
    problems = []
    for pid, node in process_nodes.items():
        for call in _calls(node):
            path = _path(graph, call.get("calledElement"), pid)
            if path is None:
                continue
            cycle = " → ".join([pid, *path])
            problems.append(Problem(
                process_files.get(pid, ""),
                f"call activity makes the process call itself ({cycle}): each call nests one level deeper; "
                f"past {MAX_CALL_DEPTH} levels the instance stops with an incident",
                call.get("id"), call.sourceline, "warning"))
    return problems


def call_depth(my_task) -> int:  # noqa: ANN001 - a SpiffWorkflow task
    """How many call activities enclose `my_task`'s workflow."""
    depth, workflow = 0, my_task.workflow
    top = workflow.top_workflow
    while workflow is not top and workflow.parent_task_id is not None:
        parent = top.get_task_from_id(workflow.parent_task_id)
        if isinstance(parent.task_spec, CallActivity):
            depth += 1
        workflow = parent.workflow
    return depth


def _capped(original: Callable) -> Callable:
    def start_workflow(self, my_task):  # noqa: ANN001, ANN202 - SpiffWorkflow's signature
        if isinstance(self, CallActivity) and call_depth(my_task) >= MAX_CALL_DEPTH:
            my_task.error()
            raise WorkflowTaskException(
                f"call depth exceeds {MAX_CALL_DEPTH}: call activity {self.bpmn_id} calls {self.spec!r} "
                f"{MAX_CALL_DEPTH + 1} levels deep (a process calling itself?)", task=my_task)
        return original(self, my_task)

    start_workflow._oaflow_capped = True  # type: ignore[attr-defined]
    return start_workflow


def install() -> None:
    """Cap call-activity nesting at MAX_CALL_DEPTH (idempotent)."""
    current = SubWorkflowTask.start_workflow
    if not getattr(current, "_oaflow_capped", False):
        SubWorkflowTask.start_workflow = _capped(current)


install()
