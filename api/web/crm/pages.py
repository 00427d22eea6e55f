"""What every CRM page shares: the logged-in user as a crm.access.Viewer, whether the CRM links belong in the
menu, the option labels for templates, and field errors from a domain error.

The pages themselves live beside this module, one small module per record: customer_pages (list, detail,
create, edit, follow-ups, import/export), contact_pages, opportunity_pages (board, create, edit, detail),
contract_pages, ticket_pages, pool_pages (公海, claim, release, transfer, the follow-up reminder list) and
audit_log (the operation-log tab). Every page calls the crm/ domain functions with the viewer exactly as the v1
API does: another rep's customer is 404, a read-only share may not change it (403).
"""

from __future__ import annotations

from flask import g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from api.extensions import db
from api.web.blueprint import bp
from api.web.common.error_text import error_text
from api.web.common.session import user
from api.web.crm import choices
from crm.access import Viewer, viewer_for
from crm.models import Customer
from oa.models import User
from store.errors import DomainError

PER_PAGE = 25
STAGE_LABELS = choices.STAGES
FOLLOW_UP_TYPES = {"call": _l("Call"), "visit": _l("Visit"), "email": _l("Email"), "meeting": _l("Meeting")}


def crm_viewer() -> Viewer:
    """The logged-in user as a CRM viewer (with the team below them; a read also with their open tasks' grants)."""
    return viewer_for(db.session, user(), via_tasks=request.method in ("GET", "HEAD"))


def is_crm_user() -> bool:
    """Whether the CRM links belong in the menu: admins, the sales group, and managers (they see a team)."""
    me = g.get("user")
    if me is None:
        return False
    if "crm_nav" not in g:
        g.crm_nav = bool(me.has_role("admin") or "sales" in g.actor.groups or db.session.scalar(
            select(User.id).where(User.manager_id == me.id, User.active.is_(True)).limit(1)))
    return g.crm_nav


def is_finance_user() -> bool:
    """Whether the finance links (contracts, orders, invoices, receivables) belong in the menu: finance, admins."""
    me = g.get("user")
    return bool(me is not None and (me.has_role("admin") or "finance" in g.actor.groups))


SALES_TOP = (("web.customers", _l("Customers")), ("web.board", _l("Opportunities")), ("web.contracts", _l("Contracts")),
             ("web.orders", _l("Orders")), ("web.products", _l("Products")))
FINANCE_TOP = (("web.contracts", _l("Contracts")), ("web.orders", _l("Orders")), ("web.invoices", _l("Invoices")),
               ("web.receivables", _l("Receivables")))
SALES_SUB = (("web.customers", _l("Customers")), ("web.due_follow_ups", _l("Contact today")),
             ("web.pool", _l("Public pool")), ("web.board", _l("Opportunity board")),
             ("web.contracts", _l("Contracts")), ("web.orders", _l("Orders")), ("web.invoices", _l("Invoices")),
             ("web.receivables", _l("Receivables")), ("web.tickets", _l("Tickets")))


def crm_menus() -> tuple[list[tuple[str, object]], list[tuple[str, object]]]:
    """(main-menu links, CRM sub-menu links) the logged-in user's roles may use: reps and their managers the
    sales pages, finance the contract, order, invoice and receivable pages, administrators both."""
    sales, finance = is_crm_user(), is_finance_user()
    top: list[tuple[str, object]] = []
    sub: list[tuple[str, object]] = []
    for wanted, links in ((sales, SALES_TOP), (finance, FINANCE_TOP)):
        top += [link for link in links if wanted and link[0] not in {e for e, _t in top}]
    if sales:
        sub = list(SALES_SUB)
    elif finance:
        sub = list(FINANCE_TOP)
    return top, sub


@bp.app_template_global()
def crm_sub_menu() -> list[tuple[str, object]]:
    """The CRM sub-menu's links for the logged-in user (a global: the crm_nav macro is imported without context)."""
    return crm_menus()[1]


@bp.record_once
def _offer_import_aliases(state) -> None:  # noqa: ANN001
    """Let the v1 import (api.routes.customers) map option labels as the page import does: the labels live here."""
    state.app.extensions["crm.import_aliases"] = choices.import_aliases
    state.app.extensions["crm.import_headers"] = choices.import_headers


@bp.app_context_processor
def _crm_globals() -> dict:
    top = crm_menus()[0] if request and request.blueprint == "web" else []
    return {"is_crm": is_crm_user() if request and request.blueprint == "web" else False,
            "crm_top": top,
            "stage_labels": STAGE_LABELS, "follow_up_types": FOLLOW_UP_TYPES,
            "choice": choices.choice, "choice_options": choices.options,
            "field_value": choices.field_value, "field_label": choices.field_label,
            "close_reason_text": choices.close_reason_text}


def field_errors(err: DomainError) -> dict[str, str]:
    """{field: message} from a domain error's `errors` (the whole detail under "_" when none names a field)."""
    out: dict[str, str] = {}
    for e in err.errors or []:
        if isinstance(e, dict):
            out.setdefault(str(e.get("field") or "_"), error_text(e.get("message") or err.detail))
    return out or {"_": error_text(err.detail)}


def pages_of(total: int) -> int:
    """How many list pages `total` rows make (at least one)."""
    return max(1, -(-total // PER_PAGE))


def customer_names(ids: set[int]) -> dict[int, str]:
    """Customer names by id (for lists whose rows are already in the viewer's scope)."""
    if not ids:
        return {}
    return dict(db.session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids))).all())
