"""The dashboard: the reports as server-rendered SVG bar charts, each in the viewer's data scope —
pipeline funnel and weighted forecast (crm.reports), approval cycle times (engine.reports) and the
month's attendance (oa.attendance.monthly_report)."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from marshmallow import RAISE, Schema, fields, validate

from api.extensions import db
from api.http import query_args
from api.web.blueprint import bp
from api.web.common.session import user
from api.web.crm.pages import STAGE_LABELS, crm_viewer
from api.web.formatting import format_money
from api.web.labels import process_name
from api.web.reports.charts import bar_chart, fmt_hours
from crm import reports
from engine.reports import approval_efficiency
from oa import attendance
from store.base import utcnow

CHART_PEOPLE = 40  # attendance bars per person up to this many people, else per department


class DashboardArgs(Schema):
    """?month=YYYY-MM for the attendance chart (this month by default)."""

    class Meta:
        unknown = RAISE

    month = fields.String(validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="expected YYYY-MM"))


@bp.get("/dashboard")
def dashboard() -> str:
    """Pipeline, forecast, approval cycle times and attendance charts."""
    args = query_args(DashboardArgs)
    now = utcnow()
    month = args.get("month") or now.strftime("%Y-%m")
    v = crm_viewer()

    funnel = reports.pipeline(db.session, v)
    pipeline_chart = bar_chart(_("Pipeline by stage"), [(str(STAGE_LABELS[r["stage"]]), [r["amount"]])
                                                         for r in funnel],
                               texts=[[f"{format_money(r['amount'])} ({r['count']})"] for r in funnel])
    months = reports.forecast(db.session, v)
    forecast_chart = bar_chart(_("Weighted forecast by month"),
                               [(r["month"], [r["amount"], r["weighted_amount"]]) for r in months],
                               legend=[_("Amount"), _("Weighted amount")], fmt=format_money)

    approvals = approval_efficiency(db.session, now, approvers=None if v.is_admin else v.owners)
    cycle_chart = bar_chart(_("Approval cycle time (hours)"),
                            [(process_name(r["process_key"]), [r["median_hours"], r["p90_hours"]])
                             for r in approvals["by_process"]],
                            legend=[_("Median"), _("90th percentile")],
                            texts=[[fmt_hours(r["median_hours"]), fmt_hours(r["p90_hours"])]
                                   for r in approvals["by_process"]])

    report = attendance.monthly_report(db.session, user(), month, now=now, users_upto=CHART_PEOPLE)
    # a bar per person while they fit on a chart; past that a bar per department (each with its people)
    bars = ([(u["display_name"] or u["user"], u) for u in report["users"]]
            if report["user_count"] <= CHART_PEOPLE else
            [(f"{d['department']} ({d['users']})", d) for d in report["departments"]])
    attendance_chart = bar_chart(_("Attendance in %(month)s", month=report["month"]),
                                 [(label, [r["present"], r["late"], r["absent"], r["leave_days"]])
                                  for label, r in bars],
                                 legend=[_("Present"), _("Late"), _("Absent"), _("Leave")])
    totals = {"open": sum(r["count"] for r in funnel if r["stage"] not in ("won", "lost")),
              "open_amount": sum(r["amount"] for r in funnel if r["stage"] not in ("won", "lost")),
              "weighted": sum(r["weighted_amount"] for r in months),
              "overdue": approvals["overdue_count"]}
    charts = [pipeline_chart, forecast_chart, cycle_chart, attendance_chart]
    return render_template("reports/dashboard.html", charts=charts,
                           totals=totals, month=report["month"], approvals=approvals)
