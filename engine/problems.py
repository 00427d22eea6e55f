"""Validation problems: what is wrong with an uploaded file, where, and how badly."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a deployment file.

    `element_id` names the BPMN/DMN element at fault (None for file-level problems),
    `line` the source line when known.
    """

    file: str
    message: str
    element_id: str | None = None
    line: int | None = None
    severity: str = "error"  # "error" blocks deployment, "warning" does not

    def to_dict(self) -> dict:
        """JSON-ready form, as the HTTP API returns it."""
        return asdict(self)
