"""Request helpers shared by the blueprints: JSON bodies, query args, pagination."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from marshmallow import Schema, ValidationError
from sqlalchemy import Select, func, select

from api.errors import ApiError, marshmallow_errors
from api.extensions import db


def json_body(schema: Schema) -> dict:
    """The request's JSON body loaded through `schema`: 400 if malformed, 422 naming bad fields."""
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
    return schema.load(data)


def query_args(schema: Schema) -> dict:
    """Query-string arguments loaded through `schema` (422 naming bad arguments)."""
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as err:
        raise ApiError(422, "Invalid query", "some query arguments are invalid",
                       marshmallow_errors(err.messages)) from err


def paginate(query: Select, page: int, per_page: int, dump: Any) -> dict:
    """{items, total, page, per_page} for a select statement."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": dump(rows), "total": total, "page": page, "per_page": per_page}
