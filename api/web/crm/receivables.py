"""The receivables page (回款): instalments of the contracts the viewer sees, due or overdue, with the customer,
contract, amount, due date, paid and outstanding, filtered by state and due date, and exported as CSV/XLSX.

A view over crm.contracts.plans_query (the query GET /api/v1/receivables lists) with the logged-in viewer:
finance and administrators see every contract's plans, a rep those of contracts in their scope. The customer is
a link only where the viewer may open the customer page, otherwise its name as text.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import render_template
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import Select, select

from api.extensions import db
from api.http import query_args
from api.routes._crm_common import MAX_EXPORT_ROWS, table_response
from api.web.blueprint import bp
from api.web.common.queries import count as count_rows
from api.web.crm.pages import PER_PAGE, crm_viewer, pages_of
from api.web.crm.sales import contract_title, plan_note
from crm import contracts as contracts_svc
from crm.access import Viewer, can_read_customer
from crm.models import Contract, Customer, ReceivablePlan
from store.clock import company_date

SHOW = ("open", "overdue", "paid", "all")  # open: something still outstanding (due or not yet due)
EXPORT_COLUMNS = ("id", "customer", "contract_id", "contract", "due_date", "amount", "paid_amount", "outstanding",
                  "overdue", "note")


class ReceivableSearch(Schema):
    """Query arguments of the receivables page."""

    class Meta:
        unknown = RAISE

    show = fields.String(load_default="open", validate=validate.OneOf(("", *SHOW)))
    due_by = fields.Date()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    format = fields.String(validate=validate.OneOf(("csv", "xlsx")))


def receivables_query(viewer: Viewer, args: dict[str, Any], today: date) -> Select:
    """The viewer's receivable plans for the page's filters, earliest due first."""
    show = args.get("show") or "open"
    query = contracts_svc.plans_query(viewer, {"overdue": show == "overdue"}, today)
    if show == "open":
        query = query.where(ReceivablePlan.paid_amount < ReceivablePlan.amount)
    elif show == "paid":
        query = query.where(ReceivablePlan.paid_amount >= ReceivablePlan.amount)
    if args.get("due_by"):
        query = query.where(ReceivablePlan.due_date <= args["due_by"])
    return query


def _context(plans: list[ReceivablePlan], viewer: Viewer) -> tuple[dict[int, Contract], dict[int, Customer],
                                                                   set[int]]:
    """The plans' contracts and customers by id, and the customers the viewer may open."""
    contract_ids = {p.contract_id for p in plans}
    contracts = {k.id: k for k in db.session.scalars(select(Contract).where(Contract.id.in_(contract_ids)))} \
        if contract_ids else {}
    customer_ids = {k.customer_id for k in contracts.values()}
    customers = {c.id: c for c in db.session.scalars(select(Customer).where(Customer.id.in_(customer_ids)))} \
        if customer_ids else {}
    readable = {c.id for c in customers.values() if can_read_customer(db.session, viewer, c)}
    return contracts, customers, readable


@bp.get("/receivables")
def receivables() -> Any:
    """Receivable plans due and overdue in my scope (finance: all), with filters and a CSV/XLSX export."""
    args = query_args(ReceivableSearch)
    viewer, today = crm_viewer(), company_date()
    query = receivables_query(viewer, args, today)
    if args.get("format"):
        plans = db.session.scalars(query.limit(MAX_EXPORT_ROWS)).all()
        contracts, customers, _readable = _context(plans, viewer)
        rows = []
        for p in plans:
            k = contracts.get(p.contract_id)
            row = contracts_svc.plan_dict(p, today)
            row["note"] = plan_note(row)  # the reader's language, as the page shows it
            row["contract"] = contract_title(k) if k else ""
            row["customer"] = customers[k.customer_id].name if k and k.customer_id in customers else ""
            rows.append(row)
        return table_response("receivables", EXPORT_COLUMNS, rows, args["format"])
    total = count_rows(db.session, query)
    plans = db.session.scalars(query.limit(PER_PAGE).offset((args["page"] - 1) * PER_PAGE)).all()
    contracts, customers, readable = _context(plans, viewer)
    outstanding = {p.id: Decimal(str(p.amount)) - Decimal(str(p.paid_amount)) for p in plans}
    params = {k: v for k, v in (("show", args.get("show")), ("due_by", args.get("due_by"))) if v}
    return render_template("crm/receivables.html", plans=plans, contracts=contracts, customers=customers,
                           readable=readable, outstanding=outstanding, today=today, total=total, args=args,
                           params=params, page=args["page"], pages=pages_of(total), shows=SHOW)
