"""Request helpers shared by the blueprints: JSON bodies, query args, pagination."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from typing import Any

from flask import request
from marshmallow import Schema, ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from api.errors import ApiError, marshmallow_errors
from api.extensions import db
from forms.text import MESSAGE as TEXT_RULE
from forms.text import unstorable


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
    found = unstorable(data)
    if found is not None:
        field, message = found
        raise ApiError(422, "Validation failed", TEXT_RULE,
                       [{"field": field, "message": message}])
    loader = schema(cls)
    loaded = loader.load(data)
    wild = out_of_range(loader, loaded)  # a date the calendar queries cannot name, an id no column holds
    if wild:
        raise ApiError(422, "Validation failed", "some fields are out of range", wild)
    return loaded


def query_args(cls: type[Schema]) -> dict:
    """Query-string arguments loaded through schema `cls` (422 naming bad arguments)."""
    args = request.args.to_dict()
    found = unstorable(args)
    if found is not None:
        raise ApiError(422, "Invalid query", "query arguments may not contain NUL characters",
                       [{"field": found[0], "message": found[1]}])
    loader = schema(cls)
    try:
        loaded = loader.load(args)
    except ValidationError as err:
        raise ApiError(422, "Invalid query", "some query arguments are invalid",
                       marshmallow_errors(err.messages)) from err
    wild = out_of_range(loader, loaded)
    if wild:
        raise ApiError(422, "Invalid query", "some query arguments are out of range", wild)
    return loaded


# a date a query or a body may name (date arithmetic stays in range; the same range as forms' "date" fields)
QUERY_DATES = (date(1900, 1, 1), date(2999, 12, 31))
_MAX_INT = 2**63 - 1  # the database's BIGINT


def out_of_range(loader: Schema, loaded: dict) -> list[dict]:
    """Errors naming each loaded top-level value the database or date arithmetic cannot hold: a date outside
    QUERY_DATES, an integer beyond a 64-bit column (query arguments and JSON bodies alike)."""
    errors = []
    for name, value in loaded.items():
        field = loader.fields.get(name)
        key = (field.data_key if field is not None else None) or name
        day = value.date() if isinstance(value, datetime) else value
        if isinstance(day, date) and not QUERY_DATES[0] <= day <= QUERY_DATES[1]:
            errors.append({"field": key, "message": f"must be between {QUERY_DATES[0]} and {QUERY_DATES[1]}"})
        elif isinstance(value, int) and not isinstance(value, bool) and not -_MAX_INT <= value <= _MAX_INT:
            errors.append({"field": key, "message": "out of range"})
    return errors


EXACT_TOTAL_UP_TO = 10_000  # totals past this are the planner's estimate (PostgreSQL) or this bound (SQLite)


def _total(query: Select) -> tuple[int, bool]:
    """(total, is_estimate): counted exactly up to EXACT_TOTAL_UP_TO rows, estimated past it."""
    capped = query.order_by(None).limit(EXACT_TOTAL_UP_TO + 1).subquery()
    counted = db.session.scalar(select(func.count()).select_from(capped)) or 0
    if counted <= EXACT_TOTAL_UP_TO:
        return counted, False
    estimate = counted
    if db.session.get_bind().dialect.name == "postgresql":
        try:  # values rendered by SQLAlchemy's literal processors (quoted, escaped) for EXPLAIN alone
            sql = str(query.order_by(None).compile(db.session.get_bind(), compile_kwargs={"literal_binds": True}))
            with db.session.begin_nested():
                plan = db.session.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + sql).scalar()
        except Exception:  # noqa: BLE001 - no estimate (a type without a literal form): keep the bound
            return counted, True
        plan = json.loads(plan) if isinstance(plan, str) else plan
        estimate = max(counted, int(plan[0]["Plan"]["Plan Rows"]))
    return estimate, True


def _keyset(query: Select) -> tuple[Any, bool]:
    """The single column a list is ordered by and whether it is descending; (None, False) if it has no such
    order (keyset paging then is not offered)."""
    clauses = query._order_by_clauses  # noqa: SLF001 - SQLAlchemy exposes no public accessor
    if len(clauses) != 1:
        return None, False
    clause = clauses[0]
    if isinstance(clause, UnaryExpression) and clause.modifier in (operators.desc_op, operators.asc_op):
        return clause.element, clause.modifier is operators.desc_op
    return clause, False


def paginate(query: Select, page: int, per_page: int, dump: Any, after: int | None = None) -> dict:
    """{items, total, total_is_estimate, page, per_page, next_after} for a select statement.

    Pages by number (`page`) or, when `after` (a cursor: the `next_after` of the previous page) is given, by
    keyset: the rows after that key in the list's order, an index range scan at any depth. `next_after` is
    null on the last page, and always for lists not ordered by one key column."""
    column, descending = _keyset(query)
    if after is not None:
        if column is None:
            raise ApiError(422, "Invalid query", "this list cannot be paged with a cursor",
                           [{"field": "after", "message": "not supported by this list; use page"}])
        rows = db.session.scalars(query.where(column < after if descending else column > after)
                                  .limit(per_page + 1)).all()
    else:
        rows = db.session.scalars(query.limit(per_page + 1).offset((page - 1) * per_page)).all()
    more, rows = len(rows) > per_page, rows[:per_page]
    total, estimate = _total(query)
    next_after = getattr(rows[-1], column.key, None) if column is not None and more else None
    return {"items": dump(rows), "total": total, "total_is_estimate": estimate, "page": page,
            "per_page": per_page, "next_after": next_after}
