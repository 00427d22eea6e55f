"""Attendance: clock in/out on server time, one's records (managers: their reports'), the monthly report."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response
from marshmallow import RAISE, Schema, fields, validate

from api.auth import current_user, login_required
from api.extensions import db
from api.http import paginate, query_args
from api.schemas import PageArgs
from engine.runtime import begin_write
from oa import attendance
from store.errors import InvalidData

bp = Blueprint("attendance", __name__)


class RecordArgs(PageArgs):
    user = fields.String(validate=validate.Length(min=1, max=100))
    from_ = fields.Date(data_key="from")
    to = fields.Date()


class ReportArgs(Schema):
    class Meta:
        unknown = RAISE

    month = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d{2}$", error="expected YYYY-MM"))
    department = fields.Integer()
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))


def _dump(rows: list, rule_cache: dict) -> list[dict]:
    out = []
    for r, flags in zip(rows, attendance.flags_for(db.session, rows, rule_cache), strict=True):
        out.append({"id": r.id, "user": r.user, "work_date": r.work_date.isoformat(),
                    "clock_in": r.clock_in.isoformat(), "clock_out": r.clock_out.isoformat() if r.clock_out else None,
                    **flags})
    return out


@bp.post("/attendance/clock-in")
@login_required
def clock_in() -> tuple[dict, int]:
    """Start a shift now (409 if one is open)."""
    me = current_user().username
    begin_write(db.session)
    row = attendance.clock_in(db.session, me)
    db.session.commit()
    return _dump([row], {})[0], 201


@bp.post("/attendance/clock-out")
@login_required
def clock_out() -> dict:
    """End the open shift now (409 if none is open)."""
    me = current_user().username
    begin_write(db.session)
    row = attendance.clock_out(db.session, me)
    db.session.commit()
    return _dump([row], {})[0]


@bp.get("/attendance")
@login_required
def list_records() -> dict:
    """Attendance records of `user` (default: me) between from and to; managers may read their reports'."""
    args = query_args(RecordArgs)
    viewer = current_user()
    start, end = args.get("from_"), args.get("to")
    if start and end and end < start:
        raise InvalidData("the range ends before it starts", errors=[{"field": "to", "message": "before from"}])
    query = attendance.records_query(db.session, viewer, args.get("user") or viewer.username, start, end)
    cache: dict = {}
    return paginate(query, args["page"], args["per_page"], lambda rows: _dump(rows, cache))


@bp.get("/reports/attendance")
@login_required
def report() -> Response | dict:
    """Monthly attendance per user and per department; ?format=csv|xlsx downloads the per-user table."""
    args = query_args(ReportArgs)
    data = attendance.monthly_report(db.session, current_user(), args["month"], args.get("department"))
    if args["format"] == "json":
        return data
    return report_download(data, args["format"])


def _safe_cell(value: object) -> object:
    """Defuse spreadsheet formula injection in text cells (names come from users)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def report_download(data: dict, fmt: str) -> Response:
    """The monthly report `data` as a CSV (per user) or XLSX (users and departments sheets) download; the web
    report page exports through this too."""
    header, rows = attendance.report_table(data)
    name = f"attendance-{data['month']}"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(header)
        writer.writerows([[_safe_cell(v) for v in row] for row in rows])
        return Response(buf.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "Users"
    sheet.append(header)
    for row in rows:
        sheet.append([_safe_cell(v) for v in row])
    dept_header, dept_rows = attendance.department_table(data)
    depts = book.create_sheet("Departments")
    depts.append(dept_header)
    for row in dept_rows:
        depts.append([_safe_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
