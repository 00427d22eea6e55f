"""Exceptions the engine raises; the API maps each to an HTTP status and a problem+json body."""

from __future__ import annotations

from engine.problems import Problem


class EngineError(Exception):
    """Base of every error the engine reports to a caller."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[dict] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class NotFound(EngineError):
    """The object does not exist, or the caller may not know it exists."""

    status = 404
    title = "Not found"


class Forbidden(EngineError):
    """The caller is known but may not do this."""

    status = 403
    title = "Forbidden"


class Conflict(EngineError):
    """The object changed state under the caller (already completed, concurrent change, withdrawn)."""

    status = 409
    title = "Conflict"


class InvalidData(EngineError):
    """Valid JSON that fails validation (form fields, variables)."""

    status = 422
    title = "Validation failed"


class DeploymentInvalid(EngineError):
    """A deployment has problems; `problems` lists every one of them."""

    status = 422
    title = "Deployment has problems"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the deployment",
                         errors=[p.to_dict() for p in problems])
        self.problems = problems


class TooLarge(EngineError):
    """An upload is bigger than allowed."""

    status = 413
    title = "Payload too large"
