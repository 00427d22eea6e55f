"""Request helpers shared by the blueprints: JSON bodies, query args, pagination."""

from __future__ import annotations

import json
import re
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
    found = _unstorable_text(data)
    if found is not None:
        field, message = found
        raise ApiError(422, "Validation failed", "text may not contain NUL characters or lone UTF-16 surrogates",
                       [{"field": field, "message": message}])
    return schema(cls).load(data)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _problem_in(text: str) -> str | None:
    """Why `text` cannot be stored (a NUL, or a lone surrogate that no UTF-8 column can hold), or None.
    json.loads joins a valid escaped pair into one character, so any surrogate left is a lone one."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL (\\u0000) character"
    return f"contains a lone UTF-16 surrogate (\\u{ord(found.group()):04x}), which is not valid Unicode text"


_SURROGATE = re.compile("[\ud800-\udfff]")


def _printable(path: str) -> str:
    """The path with lone surrogates shown as U+FFFD, so the problem document itself can be encoded."""
    return _SURROGATE.sub("\ufffd", path)


def _unstorable_text(value: Any, path: str = "") -> tuple[str, str] | None:
    """(path, why) of the first key or string no database can store (NUL, lone surrogate), or None."""
    if isinstance(value, str):
        why = _problem_in(value)
        return (_printable(path or "body"), why) if why else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}/{key}" if path else str(key)
            why = _problem_in(key)
            if why:
                return _printable(here), why
            found = _unstorable_text(item, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _unstorable_text(item, f"{path}/{i}" if path else str(i))
            if found is not None:
                return found
    return None


def query_args(cls: type[Schema]) -> dict:
    """Query-string arguments loaded through schema `cls` (422 naming bad arguments)."""
    args = request.args.to_dict()
    found = _unstorable_text(args)
    if found is not None:
        raise ApiError(422, "Invalid query", "query arguments may not contain NUL characters",
                       [{"field": found[0], "message": found[1]}])
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
