"""Errors any package may raise for a caller's mistake; the API maps each to a status and problem+json."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error reported to a caller (400 unless a subclass says otherwise)."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[dict] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class NotFound(DomainError):
    """The object does not exist, or the caller may not know it exists."""

    status = 404
    title = "Not found"


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    """The object changed state under the caller (already completed, concurrent change, duplicate)."""

    status = 409
    title = "Conflict"


class InvalidData(DomainError):
    """Valid JSON that fails validation; `errors` names the fields."""

    status = 422
    title = "Validation failed"


class TooLarge(DomainError):
    """An upload is bigger than allowed."""

    status = 413
    title = "Payload too large"
