"""Query-string parameters of the /engine-rest lists: which names a list takes, integers, dates and sorting,
each refused as Camunda refuses them (400 InvalidRequestException naming the parameter).

A list never ignores a parameter it was sent: Camunda filters by many parameters this server does not
implement, and answering the unfiltered list to such a filter (`startedAfter=garbage`, `sortBy=__class__`)
would hand a client rows it did not ask for. A parameter the list does not take is refused instead."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from flask import request

from api.errors import ApiError

PAGING = frozenset({"firstResult", "maxResults"})
SORTING = frozenset({"sortBy", "sortOrder"})
MAX_INT = 2**31 - 1  # Camunda's firstResult and maxResults are Java ints
CAMUNDA_DATE = "%Y-%m-%dT%H:%M:%S.%f%z"


class MaxResultsExceeded(ApiError):
    """maxResults above the server's limit: Camunda's BadUserRequestException (queryMaxResultsLimit)."""


def bad_value(name: str, value: str) -> ApiError:
    """Camunda's 400 for a parameter whose value cannot be read."""
    return ApiError(400, "InvalidRequestException",
                    f"Cannot set query parameter '{name}' to value '{value[:100]}'")


def only(allowed: Iterable[str]) -> None:
    """400 naming the first query parameter the list does not take."""
    known = frozenset(allowed)
    for name in request.args:
        if name not in known:
            raise ApiError(400, "InvalidRequestException",
                           f"Unsupported query parameter '{name[:100]}': this server does not filter by it")


def integer(name: str, low: int = 0, high: int = MAX_INT) -> int | None:
    """An integer parameter within [low, high], or None when absent."""
    value = request.args.get(name)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 10 or not low <= int(value) <= high:
        raise bad_value(name, value)
    return int(value)


def boolean(name: str) -> bool | None:
    """`true` or `false`, or None when absent."""
    value = request.args.get(name)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise bad_value(name, value)
    return value == "true"


def moment(name: str) -> datetime | None:
    """A date parameter (Camunda's `2013-01-23T14:42:45.000+0200`, or ISO 8601) as naive UTC, the way times
    are stored; a time without an offset is UTC. None when absent."""
    value = request.args.get(name)
    if value is None:
        return None
    parsed = None
    if len(value) <= 40:
        for parse in (lambda v: datetime.strptime(v, CAMUNDA_DATE), datetime.fromisoformat):
            try:
                parsed = parse(value)
                break
            except ValueError:
                continue
    if parsed is None or not 1900 <= parsed.year <= 2999:
        raise bad_value(name, value)
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def ordering(columns: Mapping[str, Any], default: list[Any], tie: Any) -> list[Any]:
    """ORDER BY clauses from sortBy and sortOrder (both or neither, as Camunda requires), `tie` last so pages
    do not overlap; `default` without them."""
    by, order = request.args.get("sortBy"), request.args.get("sortOrder")
    if by is None and order is None:
        return default
    if by is None or order is None:
        raise ApiError(400, "InvalidRequestException",
                       "Only a single sorting parameter specified. sortBy and sortOrder required")
    if by not in columns:
        raise ApiError(400, "InvalidRequestException", f"sortBy parameter has invalid value: {by[:100]}")
    if order not in ("asc", "desc"):
        raise ApiError(400, "InvalidRequestException", f"sortOrder parameter has invalid value: {order[:100]}")
    column = columns[by]
    return [column.desc() if order == "desc" else column.asc(), tie.desc() if order == "desc" else tie.asc()]
