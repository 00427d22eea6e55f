"""Sales analytics: win rate and stage conversion with a history-weighted forecast, sales trend by month, and the
OA x CRM order-cycle view (crm.sales_reports); `?format=csv|xlsx` exports the main table."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from api.auth import login_required
from api.extensions import db
from api.http import query_args
from api.routes._crm_common import table_response, viewer
from crm import sales_reports as svc
from store.clock import company_date

bp = Blueprint("reports_sales", __name__)
PERIOD = validate.Regexp(r"^\d{4}(-(0[1-9]|1[0-2]|Q[1-4]))?$", error="must be YYYY, YYYY-MM or YYYY-Qn")


class ReportArgs(Schema):
    class Meta:
        unknown = RAISE

    period = fields.String(validate=PERIOD)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))


def _answer(name: str, result: dict, key: str, columns: tuple[str, ...], fmt: str):  # noqa: ANN202
    return result if fmt == "json" else table_response(name, columns, result[key], fmt)


@bp.get("/reports/win-rate")
@login_required
def win_rate():  # noqa: ANN201
    """Win rate per rep, stage conversion per rep and stage (`?period=`), and the forecast of open deals by
    nominal probability and by the historical win rate of their stage."""
    args = query_args(ReportArgs)
    result = svc.win_rate(db.session, viewer(), args.get("period"), company_date())
    return _answer("win-rate", result, "by_rep", ("owner", "won", "lost", "closed", "win_rate", "won_amount"),
                   args["format"])


@bp.get("/reports/sales-trend")
@login_required
def sales_trend():  # noqa: ANN201
    """Per month: orders confirmed, deals won, payments received (`?period=`, default this year)."""
    args = query_args(ReportArgs)
    result = svc.sales_trend(db.session, viewer(), args.get("period"), company_date())
    return _answer("sales-trend", result, "months",
                   ("month", "orders", "order_total", "deals_won", "won_amount", "payments"), args["format"])


@bp.get("/reports/order-cycle")
@login_required
def order_cycle():  # noqa: ANN201
    """Per team and month: order and contract approval cycle times beside won revenue and satisfaction."""
    args = query_args(ReportArgs)
    result = svc.order_cycle(db.session, viewer(), args.get("period"), company_date())
    return _answer("order-cycle", result, "rows",
                   ("team", "month", "orders_confirmed", "order_cycle_hours", "contracts_approved",
                    "contract_cycle_hours", "won_revenue", "satisfaction", "satisfaction_count"), args["format"])
