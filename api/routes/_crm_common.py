"""Helpers shared by the CRM blueprints: the caller as a CRM viewer, list/export responses, list args."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import Response, request
from marshmallow import fields, validate
from sqlalchemy import Select

from api.auth import current_user
from api.extensions import db
from api.http import paginate
from api.schemas import PageArgs
from crm.access import Viewer, viewer_for
from crm.tabular import to_csv, to_xlsx

MAX_EXPORT_ROWS = 50_000


class ListArgs(PageArgs):
    """page/per_page plus format=json|csv|xlsx for export."""

    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))
    after = fields.Integer(validate=validate.Range(min=0, max=2**62))  # keyset cursor: a page's next_after


def viewer() -> Viewer:
    """The authenticated user as a CRM viewer (with their team; a read also with their open tasks' grants)."""
    return viewer_for(db.session, current_user(), via_tasks=request.method in ("GET", "HEAD"))


def table_response(name: str, columns: Sequence[str], rows: list[dict[str, Any]], fmt: str) -> Response:
    """A CSV or XLSX download of rows."""
    if fmt == "xlsx":
        body = to_xlsx(columns, rows, name)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, mime = to_csv(columns, rows), "text/csv; charset=utf-8"
    return Response(body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def list_response(name: str, query: Select, args: dict, dump: Callable[[Any], dict],
                  columns: Sequence[str]) -> Any:
    """A page of `query` as JSON, or every row as CSV/XLSX when ?format= asks for it."""
    if args.get("format", "json") != "json":
        rows = [dump(r) for r in db.session.scalars(query.limit(MAX_EXPORT_ROWS))]
        return table_response(name, columns, rows, args["format"])
    return paginate(query, args["page"], args["per_page"], lambda rows: [dump(r) for r in rows], args.get("after"))


def done(value: Any, status: int = 200) -> Any:
    """Commit the request's changes and answer `value`."""
    db.session.commit()
    return (value, status) if status != 200 else value
