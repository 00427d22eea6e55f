"""Every report of the v1 API as a definition the report pages render: its filters, how to run it (the same
crm / oa / engine functions the API calls, in the viewer's data scope), its charts, its table and its export
(the API's columns through the API's CSV/XLSX writers, so a download equals `GET /api/v1/reports/…?format=`).
The queries belong to crm/, oa/ and engine/; this module only calls them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, fields, validate

from api.extensions import db
from api.routes._crm_common import MAX_EXPORT_ROWS, table_response
from api.routes.attendance import report_download
from api.routes.targets import COLUMNS as TARGET_COLUMNS
from api.web.approvals.timeline import display_names
from api.web.crm.choices import LABELS as CHOICE_LISTS
from api.web.crm.choices import choice
from api.web.crm.pages import STAGE_LABELS
from api.web.formatting import format_money
from api.web.labels import label, process_name
from api.web.people import person
from api.web.reports.charts import Chart, bar_chart
from crm import reports, sales_reports
from crm import targets as target_svc
from crm.access import Viewer
from crm.common import PERIOD_RE
from engine.reports import approval_efficiency
from oa import attendance, org_admin
from oa.models import User
from store.base import utcnow
from store.clock import company_date

MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="must be YYYY-MM")
SALES_PERIOD = validate.Regexp(r"^\d{4}(-(0[1-9]|1[0-2]|Q[1-4]))?$", error="must be YYYY, YYYY-MM or YYYY-Qn")

# the table headings (the export keeps the API's column keys)
COLUMN_LABELS = {
    "rep": _l("Rep"),
    "period": _l("Period"),
    "won_count": _l("Deals won"),
    "won_amount": _l("Won amount"),
    "collected": _l("Collected"),
    "target": _l("Target"),
    "attainment_pct": _l("Attainment %"),
    "customer_id": _l("Customer #"),
    "name": _l("Name"),
    "owner": _l("Owner"),
    "segment": _l("Segment"),
    "recency_days": _l("Days since last purchase"),
    "frequency": _l("Purchases"),
    "monetary": _l("Spent"),
    "dimension": _l("Dimension"),
    "value": _l("Value"),
    "count": _l("Count"),
    "stage": _l("Stage"),
    "probability": _l("Probability %"),
    "amount": _l("Amount"),
    "month": _l("Month"),
    "weighted_amount": _l("Weighted amount"),
    "id": _l("#"),
    "scope": _l("Scope"),
    "process_key": _l("Process"),
    "completed": _l("Completed"),
    "median_hours": _l("Median hours"),
    "p90_hours": _l("90th percentile hours"),
    "user": _l("User"),
    "display_name": _l("Name"),
    "department": _l("Department"),
    "work_days": _l("Work days"),
    "present": _l("Present"),
    "late": _l("Late"),
    "early_leave": _l("Left early"),
    "absent": _l("Absent"),
    "leave_days": _l("Leave days"),
    "present_days": _l("Present days"),
    "follow_ups": _l("Follow-ups"),
    "won": _l("Won"),
    "lost": _l("Lost"),
    "closed": _l("Closed"),
    "win_rate": _l("Win rate"),
    "orders": _l("Orders"),
    "order_total": _l("Order total"),
    "deals_won": _l("Deals won"),
    "payments": _l("Payments"),
    "team": _l("Team"),
    "orders_confirmed": _l("Orders confirmed"),
    "order_cycle_hours": _l("Order approval hours"),
    "contracts_approved": _l("Contracts approved"),
    "contract_cycle_hours": _l("Contract approval hours"),
    "won_revenue": _l("Won revenue"),
    "satisfaction": _l("Satisfaction"),
    "satisfaction_count": _l("Ratings"),
}

# columns holding money: the pages show them with two decimals (218,000.50); the API and the exports keep numbers
MONEY_COLUMNS = frozenset(("won_amount", "collected", "target", "monetary", "amount", "weighted_amount",
                           "order_total", "payments", "won_revenue"))

SEGMENT_LABELS = {"high_value": _l("High value"), "potential": _l("Potential"), "at_risk": _l("At risk"),
                  "lost": _l("Lost"), "prospect": _l("Prospect")}
DIMENSION_LABELS = {"industry": _l("Industry"), "region": _l("Region"), "level": _l("Level")}
SCOPE_LABELS = {"company": _l("Company"), "team": _l("Team"), "rep": _l("Rep")}


class NoArgs(Schema):
    """A report without filters."""

    class Meta:
        unknown = RAISE


class PeriodArgs(NoArgs):
    """?period=YYYY-MM or YYYY-Qn (sales by rep, targets)."""

    period = fields.String(validate=validate.Regexp(PERIOD_RE, error="must be YYYY-MM or YYYY-Qn"))


class SalesPeriodArgs(NoArgs):
    """?period=YYYY, YYYY-MM or YYYY-Qn (win rate, sales trend, order cycle)."""

    period = fields.String(validate=SALES_PERIOD)


class MonthArgs(NoArgs):
    """?month=YYYY-MM."""

    month = fields.String(validate=MONTH)


class AttendanceArgs(MonthArgs):
    """?month= and ?department= (the team filter of the attendance report)."""

    department = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class RangeArgs(NoArgs):
    """?from=&to= completion dates of the approval report."""

    from_ = fields.Date(data_key="from")
    to = fields.Date()


@dataclass
class Result:
    """What a report page shows and exports."""

    charts: list[Chart]
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    download: Callable[[str], Any]
    filters: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    value_labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # column -> {key: shown label}


@dataclass
class Report:
    """A report: its slug (as under /api/v1/reports/), title, filters and runner."""

    slug: str
    title: Any
    args: type[Schema]
    run: Callable[[Viewer, User, dict], Result]
    filters: tuple[str, ...] = ()


def _table(name: str, columns: tuple[str, ...], rows: list[dict]) -> Callable[[str], Any]:
    return lambda fmt: table_response(name, columns, rows, fmt)


def _month(args: dict) -> str:
    return args.get("month") or utcnow().strftime("%Y-%m")


def sales_by_rep(v: Viewer, _user: User, args: dict) -> Result:
    """Won amount, collected and target per rep in the period."""
    period = args.get("period") or utcnow().strftime("%Y-%m")
    rows = reports.sales_by_rep(db.session, v, period)
    columns = ("rep", "period", "won_count", "won_amount", "collected", "target", "attainment_pct")
    chart = bar_chart(str(_l("Sales by rep")), [(person(r["rep"]), [r["won_amount"], r["collected"], r["target"] or 0])
                                               for r in rows],
                      legend=[str(_l("Won amount")), str(_l("Collected")), str(_l("Target"))], fmt=format_money)
    return Result([chart], columns, rows, _table("sales-by-rep", columns, rows), {"period": period})


def segments(v: Viewer, _user: User, _args: dict) -> Result:
    """Customers per RFM segment; the table lists the first page of customers."""
    result = reports.segments(db.session, v, utcnow(), page=1, per_page=200)
    columns = ("customer_id", "name", "owner", "segment", "recency_days", "frequency", "monetary")
    chart = bar_chart(str(_l("Customers per segment")),
                      [(str(SEGMENT_LABELS.get(seg, seg)), [count]) for seg, count in result["counts"].items()])

    def download(fmt: str) -> Any:
        rows = reports.segments(db.session, v, utcnow(), page=1, per_page=MAX_EXPORT_ROWS)["customers"]
        return table_response("segments", columns, rows, fmt)
    return Result([chart], columns, result["customers"], download, notes={"total": result["customers_total"]},
                  value_labels={"segment": SEGMENT_LABELS})


def _shown(dimension: str, value: object) -> str:
    """An industry, region or level as the customer pages show it (the CRM option list, else the label table)."""
    if not value:
        return "—"
    return choice(dimension, value) if dimension in CHOICE_LISTS else str(label(value))


def distribution(v: Viewer, _user: User, _args: dict) -> Result:
    """Customers by industry, region and level."""
    dist = reports.customer_distribution(db.session, v)
    titles = {"industry": _l("Customers by industry"), "region": _l("Customers by region"),
              "level": _l("Customers by level")}
    charts = [bar_chart(str(titles.get(dim, dim)), [(_shown(dim, r["value"]), [r["count"]])
                                                   for r in items])
              for dim, items in dist.items()]
    rows = [{"dimension": dim, **row} for dim, items in dist.items() for row in items]
    columns = ("dimension", "value", "count")
    shown = {str(r["value"]): _shown(dim, r["value"]) for dim, items in dist.items() for r in items if r["value"]}
    return Result(charts, columns, rows, _table("customer-distribution", columns, rows),
                  value_labels={"dimension": DIMENSION_LABELS, "value": shown})  # the table says what the chart says


def pipeline(v: Viewer, _user: User, _args: dict) -> Result:
    """Count and amount per stage."""
    rows = reports.pipeline(db.session, v)
    columns = ("stage", "probability", "count", "amount")
    chart = bar_chart(str(_l("Pipeline by stage")), [(str(STAGE_LABELS.get(r["stage"], r["stage"])), [r["amount"]])
                                                     for r in rows], fmt=format_money)
    return Result([chart], columns, rows, _table("pipeline", columns, rows), value_labels={"stage": STAGE_LABELS})


def forecast(v: Viewer, _user: User, _args: dict) -> Result:
    """Weighted forecast by expected close month."""
    rows = reports.forecast(db.session, v)
    columns = ("month", "count", "amount", "weighted_amount")
    chart = bar_chart(str(_l("Weighted forecast by month")),
                      [(r["month"], [r["amount"], r["weighted_amount"]]) for r in rows],
                      legend=[str(_l("Amount")), str(_l("Weighted amount"))], fmt=format_money)
    return Result([chart], columns, rows, _table("forecast", columns, rows))


def _target_label(row: dict, names: dict[str, str]) -> str:
    """A target's bar: period, scope in the reader's words, and whose (a team's and a rep's target of one person
    must not read the same)."""
    scope = str(SCOPE_LABELS.get(row["scope"], row["scope"]))
    whose = names.get(row["owner"], row["owner"]) if row["owner"] else ""
    return " ".join(part for part in (row["period"], scope, whose) if part)


def targets(v: Viewer, _user: User, args: dict) -> Result:
    """The targets the viewer sees (as GET /targets), with each rep's attainment in the period."""
    filters = {"period": args["period"]} if args.get("period") else {}
    query = target_svc.list_query(v, filters, target_svc.team_of(db.session, v)).limit(MAX_EXPORT_ROWS)
    rows = [target_svc.target_dict(t) for t in db.session.scalars(query)]
    names = display_names([r["owner"] for r in rows[:40] if r["owner"]])
    chart = bar_chart(str(_l("Targets")), [(_target_label(r, names), [r["amount"]]) for r in rows[:40]],
                      fmt=format_money)
    return Result([chart], TARGET_COLUMNS, rows, _table("targets", TARGET_COLUMNS, rows),
                  value_labels={"scope": SCOPE_LABELS})


def approvals(v: Viewer, _user: User, args: dict) -> Result:
    """Median and p90 cycle time per process and approver; overdue open tasks."""
    since = datetime.combine(args["from_"], time.min) if args.get("from_") else None
    until = datetime.combine(args["to"], time.max) if args.get("to") else None
    result = approval_efficiency(db.session, utcnow(), since=since, until=until,
                                 approvers=None if v.is_admin else v.owners)
    columns = ("process_key", "completed", "median_hours", "p90_hours")
    legend = [str(_l("Median")), str(_l("90th percentile"))]
    charts = [bar_chart(str(_l("Approval cycle time per process (hours)")),
                        [(process_name(r["process_key"]), [r["median_hours"], r["p90_hours"]])
                         for r in result["by_process"]],
                        legend=legend),
              bar_chart(str(_l("Approval cycle time per approver (hours)")),
                        [(person(r["approver"]), [r["median_hours"], r["p90_hours"]]) for r in result["by_approver"]],
                        legend=legend)]
    return Result(charts, columns, result["by_process"],
                  _table("approval-by-process", columns, result["by_process"]),
                  notes={"overdue": result["overdue_count"]},
                  value_labels={"process_key": {r["process_key"]: process_name(r["process_key"])
                                                for r in result["by_process"]}})


def attendance_report(_v: Viewer, viewer: User, args: dict) -> Result:
    """The month per user (the viewer's scope, as GET /reports/attendance), optionally one department."""
    data = attendance.monthly_report(db.session, viewer, _month(args), args.get("department"), now=utcnow())
    columns = ("user", "display_name", "department", "work_days", "present", "late", "early_leave", "absent",
               "leave_days")
    rows = [{c: u.get(c) for c in columns} for u in data["users"]]
    chart = bar_chart(str(_l("Attendance in %(month)s", month=data["month"])),
                      [(u["display_name"] or u["user"], [u["present"], u["late"], u["absent"], u["leave_days"]])
                       for u in data["users"]],
                      legend=[str(_l("Present")), str(_l("Late")), str(_l("Absent")), str(_l("Leave"))])
    return Result([chart], columns, rows, lambda fmt: report_download(data, fmt), {"month": data["month"]})


def attendance_vs_sales(v: Viewer, _user: User, args: dict) -> Result:
    """Per rep: the month's attendance beside follow-ups, wins and payments."""
    rows = reports.attendance_vs_sales(db.session, v, _month(args), utcnow())
    columns = ("user", "month", "work_days", "present_days", "late", "absent", "leave_days", "follow_ups",
               "won_count", "won_amount", "collected")
    charts = [bar_chart(str(_l("Attendance and follow-ups")),
                        [(person(r["user"]), [r["present_days"], r["follow_ups"]]) for r in rows],
                        legend=[str(_l("Present")), str(_l("Follow-ups"))]),
              bar_chart(str(_l("Won amount")), [(person(r["user"]), [r["won_amount"]]) for r in rows],
                        fmt=format_money)]
    return Result(charts, columns, rows, _table("attendance-vs-sales", columns, rows), {"month": _month(args)})


def win_rate(v: Viewer, _user: User, args: dict) -> Result:
    """Win rate per rep in the period."""
    result = sales_reports.win_rate(db.session, v, args.get("period"), company_date())
    columns = ("owner", "won", "lost", "closed", "win_rate", "won_amount")
    # win_rate is already a percentage (66.7), as the table and the API give it
    chart = bar_chart(str(_l("Win rate per rep (%)")),
                      [(person(r["owner"]) or "—", [r["win_rate"] or 0]) for r in result["by_rep"]])
    return Result([chart], columns, result["by_rep"], _table("win-rate", columns, result["by_rep"]),
                  {"period": result["period"]})


def sales_trend(v: Viewer, _user: User, args: dict) -> Result:
    """Orders, wins and payments per month."""
    result = sales_reports.sales_trend(db.session, v, args.get("period"), company_date())
    columns = ("month", "orders", "order_total", "deals_won", "won_amount", "payments")
    chart = bar_chart(str(_l("Sales trend")),
                      [(r["month"], [r["order_total"], r["won_amount"], r["payments"]]) for r in result["months"]],
                      legend=[str(_l("Order total")), str(_l("Won amount")), str(_l("Payments"))], fmt=format_money)
    return Result([chart], columns, result["months"], _table("sales-trend", columns, result["months"]),
                  {"period": result["period"]})


def order_cycle(v: Viewer, _user: User, args: dict) -> Result:
    """OA x CRM: order and contract approval cycle times per team and month beside won revenue."""
    result = sales_reports.order_cycle(db.session, v, args.get("period"), company_date())
    columns = ("team", "month", "orders_confirmed", "order_cycle_hours", "contracts_approved",
               "contract_cycle_hours", "won_revenue", "satisfaction", "satisfaction_count")
    chart = bar_chart(str(_l("Approval cycle (hours) per team and month")),
                      [(f"{r['team']} {r['month']}", [r["order_cycle_hours"] or 0, r["contract_cycle_hours"] or 0])
                       for r in result["rows"]],
                      legend=[str(_l("Orders")), str(_l("Contracts"))])
    return Result([chart], columns, result["rows"], _table("order-cycle", columns, result["rows"]),
                  {"period": result["period"]})


REPORTS: dict[str, Report] = {r.slug: r for r in (
    Report("sales-by-rep", _l("Sales by rep"), PeriodArgs, sales_by_rep, ("period",)),
    Report("targets", _l("Targets"), PeriodArgs, targets, ("period",)),
    Report("segments", _l("Customer segments"), NoArgs, segments),
    Report("customer-distribution", _l("Customer distribution"), NoArgs, distribution),
    Report("pipeline", _l("Pipeline"), NoArgs, pipeline),
    Report("forecast", _l("Forecast"), NoArgs, forecast),
    Report("win-rate", _l("Win rate"), SalesPeriodArgs, win_rate, ("period",)),
    Report("sales-trend", _l("Sales trend"), SalesPeriodArgs, sales_trend, ("period",)),
    Report("order-cycle", _l("Approvals and sales (OA × CRM)"), SalesPeriodArgs, order_cycle, ("period",)),
    Report("approval-efficiency", _l("Approval efficiency"), RangeArgs, approvals, ("from", "to")),
    Report("attendance", _l("Attendance"), AttendanceArgs, attendance_report, ("month", "department")),
    Report("attendance-vs-sales", _l("Attendance and sales"), MonthArgs, attendance_vs_sales, ("month",)),
)}


def departments() -> list[tuple[int, str]]:
    """(id, name) of the active departments, for the attendance report's team filter."""
    return [(d.id, d.name) for d in db.session.scalars(org_admin.departments_query())]

