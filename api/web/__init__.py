"""The server-rendered web app, one package per area, all pages on the one `web` blueprint.

    blueprint.py  creates the blueprint (imports no page module)
    config.py     Babel, CSRF for the pages only, session cookie flags
    common/       session and login, error pages, home, form renderer, read queries, layout and macros
    approvals/    task list, task page and actions, start a request, my requests, an instance
    crm/          customers, contacts, opportunities, contracts, tickets, the pool, orders, quotes, products
    oa/           attendance, announcements, calendar, notifications
    designer/     upload and deploy, versions, diff, the process view
    reports/      the dashboard's charts and one page per report
    admin/        the admin console: instances, audit, users, API keys, webhooks

Each area module registers its routes on `api.web.blueprint.bp` when it is imported; `init_web(app)`
imports every area (below) and registers the blueprint at the site root. Nothing in api/web imports this
package back, so there is no import circle. See docs/WEB.md.
"""

from __future__ import annotations

from flask import Flask

from api.web.admin import audit as admin_audit
from api.web.admin import instances as admin_instances
from api.web.admin import integrations as admin_integrations
from api.web.admin import users as admin_users
from api.web.approvals import centre, chain, pickers, requests, tasks
from api.web.blueprint import bp
from api.web.common import errors, home, session
from api.web.common.queries import page_window
from api.web.config import LANGUAGES, configure, csrf, secure_cookies_setting
from api.web.crm import audit_log as crm_audit_log
from api.web.crm import catalogue as crm_catalogue
from api.web.crm import contact_pages as crm_contact_pages
from api.web.crm import contract_pages as crm_contract_pages
from api.web.crm import customer_pages as crm_customer_pages
from api.web.crm import opportunity_pages as crm_opportunity_pages
from api.web.crm import pages as crm_pages
from api.web.crm import pool_pages as crm_pool_pages
from api.web.crm import quotes as crm_quotes
from api.web.crm import receivables as crm_receivables
from api.web.crm import sales as crm_sales
from api.web.crm import ticket_pages as crm_ticket_pages
from api.web.designer import pages as designer_pages
from api.web.oa import pages as oa_pages
from api.web.reports import pages as reports_pages
from api.web.reports import report_pages

AREAS = (session, errors, home, tasks, pickers, requests, centre, chain, crm_pages, crm_sales, crm_catalogue,
         crm_quotes, oa_pages, designer_pages, reports_pages, report_pages, admin_instances, admin_audit, admin_users,
         admin_integrations)
# the rep's CRM pages (customers, opportunities, contracts, ...)
CRM_PAGES = (crm_customer_pages, crm_contact_pages, crm_opportunity_pages, crm_contract_pages, crm_ticket_pages,
             crm_pool_pages, crm_audit_log, crm_receivables)

__all__ = ["AREAS", "LANGUAGES", "bp", "csrf", "init_web", "secure_cookies_setting"]


def init_web(app: Flask) -> None:
    """Configure Babel, CSRF (checked by the web blueprint only) and cookie flags, and mount the pages at /."""
    configure(app)
    app.jinja_env.globals["page_window"] = page_window  # pagers, also inside imported macros
    app.register_blueprint(bp)
    app.register_error_handler(404, errors.site_not_found)  # unknown addresses: a page for browsers
