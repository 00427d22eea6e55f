"""Request helpers shared by the blueprints: JSON bodies, query args, pagination."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from flask import request
from marshmallow import Schema, ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

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
