"""The server-rendered web app, one package per area, all pages on the one `web` blueprint.

    blueprint.py  creates the blueprint (imports no page module)
    config.py     Babel, CSRF for the pages only, session cookie flags
    common/       session and login, error pages, home, form renderer, read queries, layout and macros
    approvals/    task list, task page and actions, start a request, my requests, an instance
    crm/          customers and the opportunity board
    oa/           attendance, announcements, calendar, notifications
    designer/     upload and deploy, versions, diff, the process view
    reports/      the dashboard's charts

Each area module registers its routes on `api.web.blueprint.bp` when it is imported; `init_web(app)`
imports every area (below) and registers the blueprint at the site root. Nothing in api/web imports this
package back, so there is no import circle. See docs/WEB.md.
"""

from __future__ import annotations

from flask import Flask

from api.web.approvals import requests, tasks
from api.web.blueprint import bp
from api.web.common import errors, home, session
from api.web.config import LANGUAGES, configure, csrf, secure_cookies_setting
from api.web.crm import catalogue as crm_catalogue
from api.web.crm import pages as crm_pages
from api.web.crm import quotes as crm_quotes
from api.web.crm import sales as crm_sales
from api.web.designer import pages as designer_pages
from api.web.oa import pages as oa_pages
from api.web.reports import pages as reports_pages

AREAS = (session, errors, home, tasks, requests, crm_pages, crm_sales, crm_catalogue, crm_quotes, oa_pages,
         designer_pages, reports_pages)

__all__ = ["AREAS", "LANGUAGES", "bp", "csrf", "init_web", "secure_cookies_setting"]


def init_web(app: Flask) -> None:
    """Configure Babel, CSRF (checked by the web blueprint only) and cookie flags, and mount the pages at /."""
    configure(app)
    app.register_blueprint(bp)
