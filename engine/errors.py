"""Exceptions the engine raises: the shared domain errors plus deployment problems."""

from __future__ import annotations

from engine.problems import Problem
from store.errors import Conflict, DomainError, Forbidden, InvalidData, NotFound, TooLarge

EngineError = DomainError

__all__ = ["Conflict", "DeploymentInvalid", "EngineError", "Forbidden", "InvalidData", "NotFound", "TooLarge"]


class DeploymentInvalid(DomainError):
    """A deployment has problems; `problems` lists every one of them."""

    status = 422
    title = "Deployment has problems"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the deployment",
                         errors=[p.to_dict() for p in problems])
        self.problems = problems
