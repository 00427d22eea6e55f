"""The web app's settings: Babel (zh-CN / English), CSRF protection for the web pages only (the JSON API
under /api/ stays CSRF-free because it authenticates with bearer tokens, never cookies) and the session
cookie flags. `configure(app)` applies them; `api.web.init_web` calls it.
"""

from __future__ import annotations

import os
from datetime import timedelta

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel, get_locale
from flask_wtf.csrf import CSRFProtect

from api.web.formatting import init_formatting
from api.web.labels import init_labels
from api.web.notice_text import notice_text
from api.web.people import init_people
from api.web.shown_text import init_shown_text
from store.clock import company_timezone

LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
SESSION_LIFETIME = timedelta(hours=12)  # from log-in
csrf = CSRFProtect()
babel = Babel()


def select_locale() -> str:
    """The language chosen in the session, else the best match of Accept-Language, else English."""
    chosen = session.get("lang") if request else None
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["en", "zh_CN", "zh", "zh-CN"]) if request else None
    return "zh_CN" if best and best.lower().startswith("zh") else "en"


def secure_cookies_setting() -> bool | None:
    """OAFLOW_SECURE_COOKIES: 1 = always Secure, 0 = never, unset/auto = Secure when OAFLOW_BASE_URL is
    https://…, else per request when the request came over https (directly, or as X-Forwarded-Proto from
    a trusted proxy, see api.throttle)."""
    value = os.environ.get("OAFLOW_SECURE_COOKIES", "auto").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return True if os.environ.get("OAFLOW_BASE_URL", "").lower().startswith("https://") else None


class _SessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session whose Secure flag may follow the request's scheme (setting None = auto)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure if configured so, or (automatic mode) if this request came over https."""
        setting = app.config.get("OAFLOW_SECURE_COOKIES")
        return setting is True or (setting is None and bool(request) and request.is_secure)


def configure(app: Flask) -> None:
    """Configure Babel, CSRF (checked by the web blueprint only) and cookie flags on `app`."""
    app.config.setdefault("OAFLOW_SECURE_COOKIES", secure_cookies_setting())
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = app.config["OAFLOW_SECURE_COOKIES"] is True
    app.session_interface = _SessionInterface()
    app.config["SESSION_COOKIE_NAME"] = "oaflow_session"
    # set, not setdefault: Flask's own default (31 days) is already there, and setdefault kept it
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    # the cookie is sent only when the session changes (log-in, language, CSRF token): a page or a static file
    # that was in flight while the user switched language would otherwise send the old session back over the
    # new one. A session lasts 12 hours from log-in, however active: the log-in time is in the session and
    # api.web.common.session refuses it after that (re-signing the cookie on a change does not extend it).
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    # CSRF is checked explicitly by the web blueprint, so API blueprints are never affected.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 12 * 3600)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")  # the app factory sets the company's
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = os.path.join(os.path.dirname(__file__), "translations")
    csrf.init_app(app)
    # every time the pages show is the company's: one source, store.clock (set by the app factory)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: company_timezone().key)
    app.jinja_env.globals.update(get_locale=get_locale, languages=LANGUAGES)
    init_formatting(app)  # dates and times in the company time zone and the reader's format
    app.jinja_env.globals.update(notice_text=notice_text)  # notifications rendered in the reader's language
    init_labels(app)  # data values are translated by the `label` filter, which never marks them safe
    init_shown_text(app)  # stored NULs and lone surrogates show as U+FFFD, never a 500
    init_people(app)  # usernames shown as display names by the `person` filter
