"""Start checks: rules a process's start data must pass before anything is written.

The app factory plugs domain checks in by process key (the engine knows no domain). A check runs inside the
start's transaction, after the start form has been validated and before the first engine step, so a refusal
(raise `InvalidData` naming the field) is a 422 with nothing written. A check may compute variables: it
returns them, and they replace whatever the caller sent under those names (declare them as `computed`, so
a typed value is dropped before the form is checked and never reaches the process); it may also return
normalised values of fields the caller sent (defaults filled in).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

# check(session, username of the starter, validated start variables) -> variables the platform computes
StartCheck = Callable[[Session, str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class _Registered:
    check: StartCheck
    computed: frozenset[str]


class StartChecks:
    """Start checks by process key."""

    def __init__(self) -> None:
        self._checks: dict[str, list[_Registered]] = {}

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
