"""Query-string filters of list and report pages: a bad filter is named beside its input on the same page
(never an error page), and paging links keep the other filters."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, ValidationError

from api.errors import marshmallow_errors
from api.web.common.schema_forms import errors_by_field

PER_PAGE = 25
MAX_PAGE = 100_000


def load_filters(schema: Schema, skip: set[str] | None = None) -> tuple[dict[str, Any], dict[str, str],
                                                                      dict[str, str]]:
    """(valid filters, errors by field, the raw values to show again) from the query string (less `skip`); a
    bad filter is dropped and named beside its input instead of failing the page."""
    raw = {k: v[:500] for k, v in request.args.items()
           if v.strip() and "\x00" not in v and k not in (skip or set())}
    try:
        return schema.load(raw), {}, raw
    except ValidationError as err:
        errors = errors_by_field(marshmallow_errors(err.messages))
        good = {k: v for k, v in raw.items() if k not in errors}
        try:
            return schema.load(good), errors, raw
        except ValidationError:
            return schema.load({}), errors, raw


def page_links(page: int, total: int, per_page: int = PER_PAGE) -> dict[str, Any]:
    """Previous and next page numbers (None at either end) and the page count, for the pager macro."""
    pages = max((total + per_page - 1) // per_page, 1)
    query = {k: v for k, v in request.args.items() if k != "page"}
    return {"page": page, "pages": pages, "prev": page - 1 if page > 1 else None,
            "next": page + 1 if page < pages else None, "query": query}
