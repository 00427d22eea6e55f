"""Who may work a task: resolving assignee and candidates from BPMN attributes, lanes and the org chart."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.parsing import ElementMeta

_EXPRESSION = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.S)


class Directory(Protocol):
    """The org chart as the engine needs it; `oa.org.OrgDirectory` implements it."""

    def user_exists(self, username: str) -> bool: ...
    def is_employee(self, username: str) -> bool: ...
    def manager_of(self, username: str | None) -> str | None: ...
    def nth_manager_of(self, username: str | None, n: int = 1) -> str | None: ...
    def dept_head_of(self, username: str | None) -> str | None: ...
    def groups_of(self, username: str | None) -> set[str]: ...
    def group_name(self, label: str) -> str | None: ...
    def members_of(self, group: str) -> set[str]: ...


@dataclass
class Assignment:
    """The resolved people of one task."""

    assignee: str | None = None
    candidate_users: list[str] = field(default_factory=list)
    candidate_groups: list[str] = field(default_factory=list)


def helper_functions(directory: Directory) -> dict[str, Callable[..., Any]]:
    """Org-chart functions that expressions (assignment, conditions) may call."""
    return {
        "manager_of": directory.manager_of,
        "dept_head_of": directory.dept_head_of,
        "nth_manager_of": directory.nth_manager_of,
        "groups_of": lambda user: sorted(directory.groups_of(user)),
        "members_of": lambda group: sorted(directory.members_of(group)),
    }


MAX_PEOPLE = 50  # distinct candidate users, or groups, of one task
MAX_NAME = 100  # characters of a user or group name (the task_candidate.value column)


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple | set):
        out: list[str] = []
        for item in value:
            out.extend(_names(item))
        return out
    return [str(value)]


def _resolve(raw: str | None, evaluate: Callable[[str], Any], what: str = "names") -> list[str]:
    """The names an attribute gives (a literal list or a `${...}` expression), each once, in order; more than
    MAX_PEOPLE distinct ones or one longer than MAX_NAME is a ValueError (the task's incident names it)."""
    if not raw:
        return []
    match = _EXPRESSION.match(raw)
    names = list(dict.fromkeys(_names(evaluate(match.group(1).strip()) if match else raw)))
    if len(names) > MAX_PEOPLE:
        raise ValueError(f"{len(names)} distinct {what}; a task takes at most {MAX_PEOPLE}")
    too_long = next((n for n in names if len(n) > MAX_NAME), None)
    if too_long is not None:
        raise ValueError(f"a name in {what} is longer than {MAX_NAME} characters: {too_long[:40]!r}...")
    return names


def resolve(meta: ElementMeta | None, lane: str | None, evaluate: Callable[[str], Any],
            directory: Directory) -> Assignment:
    """Resolve a task's people. Literals stand as written; `${expr}` is evaluated over process data.

    With no explicit assignment, the lane names the candidate group.
    """
    result = Assignment()
    if meta is not None:
        assignees = _resolve(meta.assignee, evaluate)
        result.assignee = assignees[0] if assignees else None
        result.candidate_users = _resolve(meta.candidate_users, evaluate, "candidateUsers")
        result.candidate_groups = list(dict.fromkeys(  # two labels of one group are one group
            directory.group_name(g) or g for g in _resolve(meta.candidate_groups, evaluate, "candidateGroups")))
    if result.assignee is None and not result.candidate_users and not result.candidate_groups and lane:
        result.candidate_groups = [directory.group_name(lane) or lane.strip().lower()]
    return result


def may_work(user: str, groups: set[str], assignee: str | None, candidate_users: list[str],
             candidate_groups: list[str]) -> bool:
    """True if `user` may complete a task with these people (its assignee, or a candidate while unclaimed)."""
    if assignee:
        return assignee == user
    return user in candidate_users or bool(groups.intersection(candidate_groups))
