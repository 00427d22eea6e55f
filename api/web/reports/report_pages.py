"""One page per report of the v1 API (/reports/<slug>): filters (period, month, dates, department where the
API has them) with their errors on the page, server-side SVG charts, the table, and CSV/XLSX export through the
API's own writers. Every logged-in user may open them; each report keeps to the viewer's data scope exactly as
its API endpoint does (admins everything, managers their team, others their own records)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _

from api.web.blueprint import bp
from api.web.common.filters import load_filters
from api.web.common.session import user
from api.web.crm.pages import crm_viewer
from api.web.reports.catalog import COLUMN_LABELS, MONEY_COLUMNS, REPORTS, Report, departments
from api.web.reports.charts import fmt_number
from store.errors import NotFound

FORMATS = ("csv", "xlsx")

def _report(slug: str) -> Report:
    found = REPORTS.get(slug)
    if found is None:
        raise NotFound(f"no report {slug}")
    return found


@bp.get("/reports")
def report_index() -> str:
    """The list of reports."""
    return render_template("reports/index.html", reports=REPORTS.values())


def _page(report: Report, args: dict, errors: dict[str, str], raw: dict, status: int = 200) -> tuple[str, int]:
    result = report.run(crm_viewer(), user(), args)
    query = {k: v for k, v in raw.items() if k in report.filters and k not in errors}
    return render_template("reports/report.html", report=report, result=result, values=raw, errors=errors,
                           query=query, fmt=fmt_number, headings=COLUMN_LABELS, numeric=_numeric(result.rows),
                           money=MONEY_COLUMNS,
                           departments=departments() if "department" in report.filters else []), status


def _numeric(rows: list[dict]) -> set[str]:
    return {k for r in rows[:1] for k, v in r.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and k != "id" and not k.endswith("_id")}


@bp.get("/reports/<slug>")
def report_page(slug: str) -> tuple[str, int]:
    """A report with its charts, table and export links; a bad filter is named beside its input."""
    report = _report(slug)
    args, errors, raw = load_filters(report.args())
    return _page(report, args, errors, raw, 422 if errors else 200)


@bp.get("/reports/<slug>/export")
def report_export(slug: str) -> Any:
    """The report as CSV or XLSX, the same file as GET /api/v1/reports/<slug>?format=…"""
    report = _report(slug)
    fmt = request.args.get("format", "")
    args, errors, raw = load_filters(report.args(), skip={"format"})
    if fmt not in FORMATS:
        errors["format"] = _("one of csv, xlsx")
    if errors:
        return _page(report, args, errors, raw, 422)
    return report.run(crm_viewer(), user(), args).download(fmt)
