"""Request helpers shared by the blueprints: JSON bodies, query args, pagination."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from flask import request
from marshmallow import Schema, ValidationError
from sqlalchemy import Select, func, select

from api.errors import ApiError, marshmallow_errors
from api.extensions import db


@cache
def schema(cls: type[Schema], many: bool = False) -> Schema:
    """The one shared instance of a schema class: building a schema copies all its fields, while an
    instance may load and dump any number of times, from any thread."""
    return cls(many=many)


def json_body(cls: type[Schema]) -> dict:
    """The request's JSON body loaded through schema `cls`: 400 if malformed, 422 naming bad fields."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        data: Any = {}
    else:
        if request.mimetype and request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
            raise ApiError(415, "Unsupported media type", "send the body as application/json")
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as err:
            raise ApiError(400, "Malformed request", f"the body is not valid JSON: {str(err)[:200]}") from err
    if not isinstance(data, dict):
        raise ApiError(400, "Malformed request", "the body must be a JSON object")
    bad = _nul_path(data)
    if bad is not None:
        raise ApiError(422, "Validation failed", "text may not contain NUL characters",
                       [{"field": bad, "message": "contains a NUL (\\u0000) character"}])
    return schema(cls).load(data)


def _nul_path(value: Any, path: str = "") -> str | None:
    """The path of the first key or string holding a NUL character (no database can store it), or None."""
    if isinstance(value, str):
        return (path or "body") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}/{key}" if path else str(key)
            if "\x00" in key:
                return here
            found = _nul_path(item, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _nul_path(item, f"{path}/{i}" if path else str(i))
            if found is not None:
                return found
    return None


def query_args(cls: type[Schema]) -> dict:
    """Query-string arguments loaded through schema `cls` (422 naming bad arguments)."""
    args = request.args.to_dict()
    bad = _nul_path(args)
    if bad is not None:
        raise ApiError(422, "Invalid query", "query arguments may not contain NUL characters",
                       [{"field": bad, "message": "contains a NUL (\\u0000) character"}])
    try:
        return schema(cls).load(args)
    except ValidationError as err:
        raise ApiError(422, "Invalid query", "some query arguments are invalid",
                       marshmallow_errors(err.messages)) from err


def paginate(query: Select, page: int, per_page: int, dump: Any) -> dict:
    """{items, total, page, per_page} for a select statement."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": dump(rows), "total": total, "page": page, "per_page": per_page}
