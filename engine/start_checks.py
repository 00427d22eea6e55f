"""Start checks: rules a process's start data must pass before anything is written.

The app factory plugs domain checks in by process key (the engine knows no domain). A check runs inside the
start's transaction, after the start form has been validated and before the first engine step, so a refusal
(raise `InvalidData` naming the field) is a 422 with nothing written. A check may compute variables: it
returns them, and they replace whatever the caller sent under those names (declare them as `computed`, so
a typed value is dropped before the form is checked and never reaches the process); it may also return
normalised values of fields the caller sent (defaults filled in).

Completion checks work the same way for a user task: plugged by process key and task element id, they run when
the task is completed, after its form is validated and before the instance moves, so a value the form cannot
judge alone (a date against a record's) is a 422 naming the field, not an incident in a later step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

# check(session, username of the starter, validated start variables) -> variables the platform computes
StartCheck = Callable[[Session, str, dict[str, Any]], dict[str, Any]]
# check(session, username of the completer, the instance's variables, submitted task variables) -> None
CompletionCheck = Callable[[Session, str, dict[str, Any], dict[str, Any]], None]


@dataclass(frozen=True)
class _Registered:
    check: StartCheck
    computed: frozenset[str]


class StartChecks:
    """Start checks by process key."""

    def __init__(self) -> None:
        self._checks: dict[str, list[_Registered]] = {}
        self._completion: dict[tuple[str, str], list[CompletionCheck]] = {}

    def register_completion(self, key: str, element_id: str, check: CompletionCheck) -> None:
        """Run `check` when a task `element_id` of `key` is completed (it raises to refuse)."""
        self._completion.setdefault((key, element_id), []).append(check)

    def run_completion(self, session: Session, key: str, element_id: str, username: str,
                       instance_variables: dict[str, Any], submitted: dict[str, Any]) -> None:
        """Run the completion checks of the task; raises what a check raises."""
        for check in self._completion.get((key, element_id), ()):
            check(session, username, dict(instance_variables), dict(submitted))

    def register(self, key: str, check: StartCheck, *, computed: set[str] | frozenset[str] = frozenset()) -> None:
        """Run `check` when `key` starts; `computed` names the variables it sets (caller values are dropped)."""
        self._checks.setdefault(key, []).append(_Registered(check, frozenset(computed)))

    def computed(self, key: str) -> frozenset[str]:
        """Names the platform computes at the start of `key`."""
        return frozenset().union(*(r.computed for r in self._checks.get(key, ())))

    def strip_computed(self, key: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The variables without the names the platform computes (a typed value is ignored)."""
        names = self.computed(key)
        return {k: v for k, v in variables.items() if k not in names} if names else variables

    def run(self, session: Session, key: str, username: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Run every check of `key`; the variables with what they computed. Raises what a check raises."""
        result = dict(variables)
        for registered in self._checks.get(key, ()):
            computed = registered.check(session, username, dict(result)) or {}
            result.update(computed)
        return result
