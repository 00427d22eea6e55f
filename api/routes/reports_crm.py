"""CRM and approval reports under /reports/…: JSON, or `?format=csv|xlsx` for the tabular ones.
Each report is limited to the caller's data scope (own records and the team below; admins everything)."""

from __future__ import annotations

from datetime import datetime, time

from flask import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from api.auth import login_required
from api.extensions import db
from api.http import query_args
from api.routes._crm_common import MAX_EXPORT_ROWS, table_response, viewer
from crm import reports
from crm.common import PERIOD_RE
from engine.reports import approval_efficiency
from store.base import utcnow

bp = Blueprint("reports_crm", __name__)
FORMAT = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))
PERIOD = validate.Regexp(PERIOD_RE, error="must be YYYY-MM or YYYY-Qn")


class FormatArgs(Schema):
    class Meta:
        unknown = RAISE

    format = FORMAT


class SegmentArgs(FormatArgs):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=reports.SEGMENT_PAGE, validate=validate.Range(min=1, max=5000))


class PeriodArgs(FormatArgs):
    period = fields.String(validate=PERIOD)


class MonthArgs(FormatArgs):
    month = fields.String(validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="must be YYYY-MM"))


class RangeArgs(FormatArgs):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    group = fields.String(load_default="process", validate=validate.OneOf(["process", "approver", "overdue"]))


def _out(name: str, rows: list[dict], fmt: str, columns: tuple[str, ...]):  # noqa: ANN202
    if fmt == "json":
        return {"items": rows, "total": len(rows)}
    return table_response(name, columns, rows, fmt)


@bp.get("/reports/pipeline")
@login_required
def pipeline():  # noqa: ANN201
    """Pipeline funnel: count and amount per stage."""
    args = query_args(FormatArgs)
    return _out("pipeline", reports.pipeline(db.session, viewer()), args["format"],
                ("stage", "probability", "count", "amount"))


@bp.get("/reports/forecast")
@login_required
def forecast():  # noqa: ANN201
    """Weighted forecast by expected close month."""
    args = query_args(FormatArgs)
    return _out("forecast", reports.forecast(db.session, viewer()), args["format"],
                ("month", "count", "amount", "weighted_amount"))


@bp.get("/reports/sales-by-rep")
@login_required
def sales_by_rep():  # noqa: ANN201
    """Won amount and payments per rep in `?period=` (YYYY-MM or YYYY-Qn; this month by default) vs target."""
    args = query_args(PeriodArgs)
    period = args.get("period") or utcnow().strftime("%Y-%m")
    return _out("sales-by-rep", reports.sales_by_rep(db.session, viewer(), period), args["format"],
                ("rep", "period", "won_count", "won_amount", "collected", "target", "attainment_pct"))


@bp.get("/reports/customer-distribution")
@login_required
def customer_distribution():  # noqa: ANN201
    """Customers by industry, region and level (CSV/XLSX: one row per dimension and value)."""
    args = query_args(FormatArgs)
    dist = reports.customer_distribution(db.session, viewer())
    if args["format"] == "json":
        return dist
    rows = [{"dimension": dim, **row} for dim, items in dist.items() for row in items]
    return table_response("customer-distribution", ("dimension", "value", "count"), rows, args["format"])


@bp.get("/reports/segments")
@login_required
def segments():  # noqa: ANN201
    """RFM-style segments (high value, potential, at risk, lost); rules in crm.reports. The counts cover every
    customer in scope; `customers` is one page of them (`?page=&per_page=`; CSV/XLSX export up to 50,000)."""
    args = query_args(SegmentArgs)
    if args["format"] != "json":
        args["page"], args["per_page"] = 1, MAX_EXPORT_ROWS
    result = reports.segments(db.session, viewer(), utcnow(), page=args["page"], per_page=args["per_page"])
    if args["format"] == "json":
        return result
    return table_response("segments", ("customer_id", "name", "owner", "segment", "recency_days", "frequency",
                                       "monetary"), result["customers"], args["format"])


@bp.get("/reports/approval-efficiency")
@login_required
def approval():  # noqa: ANN201
    """Median and p90 task cycle time per process and per approver, and overdue open tasks.
    `?from=&to=` bound the completion dates; CSV/XLSX export the table named by `?group=`."""
    args = query_args(RangeArgs)
    v = viewer()
    since = datetime.combine(args["from_"], time.min) if args.get("from_") else None
    until = datetime.combine(args["to"], time.max) if args.get("to") else None
    result = approval_efficiency(db.session, utcnow(), since=since, until=until,
                                 approvers=None if v.is_admin else v.owners)
    if args["format"] == "json":
        return result
    if args["group"] == "overdue":
        return table_response("approval-overdue", ("task_id", "process_key", "name", "assignee", "instance_id",
                                                   "due_at", "overdue_hours"), result["overdue_open_tasks"],
                              args["format"])
    key = "process_key" if args["group"] == "process" else "approver"
    rows = result["by_process" if args["group"] == "process" else "by_approver"]
    return table_response(f"approval-by-{args['group']}", (key, "completed", "median_hours", "p90_hours"), rows,
                          args["format"])


@bp.get("/reports/attendance-vs-sales")
@login_required
def attendance_vs_sales():  # noqa: ANN201
    """Per rep: the month's attendance beside follow-ups, wins and payments (`?month=YYYY-MM`)."""
    args = query_args(MonthArgs)
    month = args.get("month") or utcnow().strftime("%Y-%m")
    return _out("attendance-vs-sales", reports.attendance_vs_sales(db.session, viewer(), month, utcnow()),
                args["format"], ("user", "month", "work_days", "present_days", "late", "absent", "leave_days",
                                 "follow_ups", "won_count", "won_amount", "collected"))
