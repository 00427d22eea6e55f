"""The session: who is asking (every web page but login needs a logged-in user), login and logout, the
language switch and the bpmn-js files. The session cookie carries only the user id, token version, session
epoch and log-in time (besides the language, flash messages and, from an admin's create to the one page after
it, the secret that page shows once: api.web.admin.reveal); a password change (token_version bump) logs the
browser out too, logging out bumps the epoch, so a copied cookie is refused after the logout, and a session
ends 12 hours after its log-in however active it was.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask import Response, abort, g, redirect, render_template, request, send_from_directory, session, url_for
from flask_babel import gettext as _
from sqlalchemy import update

from api.auth import actor_of, password_login
from api.config import ROOT
from api.extensions import db
from api.throttle import TooManyAttempts
from api.web.blueprint import PUBLIC, bp
from api.web.common.queries import page_window
from api.web.config import LANGUAGES, SESSION_LIFETIME, csrf
from engine.runtime import Actor
from oa.models import User

VENDOR_DIR = ROOT / "node_modules" / "bpmn-js" / "dist"


def _session_user() -> User | None:
    uid = session.get("uid")
    if not isinstance(uid, int):
        return None
    began = session.get("at")  # the log-in time: a session ends SESSION_LIFETIME after it, however active
    if not isinstance(began, int | float) or isinstance(began, bool) \
            or not 0 <= time.time() - began <= SESSION_LIFETIME.total_seconds():
        return None
    user = db.session.get(User, uid)
    if (user is None or not user.active or user.token_version != session.get("tv")
            or user.session_epoch != session.get("se")):
        return None
    return user


@bp.before_request
def _guard() -> Response | None:
    """CSRF on every POST of the web pages; a login redirect for pages that need a user."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    user = _session_user()
    if user is not None:
        g.user = user
        g.actor = actor_of(user)
    if user is None and request.endpoint not in PUBLIC:
        if session.get("uid"):
            session.clear()
        from api.web.common.errors import wants_json
        if wants_json():  # a page's own script or a JSON lookup: 401, not the log-in page as a 200 after a redirect
            from api.errors import problem
            return problem(401, "Unauthorized", "log in first (the session ended)")
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    return None


def actor() -> Actor:
    """The logged-in user as the engine sees them."""
    return g.actor


def user() -> User:
    """The logged-in user."""
    return g.user


@bp.app_context_processor
def _template_globals() -> dict:
    return {"web_user": g.get("user") if request and request.blueprint == "web" else None,
            "is_designer": bool(g.get("user") and g.user.has_role("designer", "admin")),
            "is_admin": bool(g.get("user") and g.user.has_role("admin")), "page_window": page_window}


def safe_next(target: str | None) -> str:
    """`target` if it is a path on this site, else the home page (no open redirect, no header injection:
    control characters, backslashes and over-long targets are refused)."""
    if not target or len(target) > 2000 or any(ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in target):
        return url_for("web.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("web.home")
    return target


# ------------------------------------------------------------------ login, language, vendor assets
@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The login form; on success a fresh session cookie (HttpOnly, SameSite=Lax). The same rate limits
    and per-client lockout as POST /api/v1/auth/token (api.auth.password_login)."""
    error = None
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()[:100]
        password = (request.form.get("password") or "")[:1000]
        try:
            found = password_login(username, password) if username and password else None
        except TooManyAttempts as err:
            error = _("Too many login attempts. Try again in %(seconds)s seconds.", seconds=err.retry_after)
            return (render_template("login.html", error=error, username=username), 429,
                    {"Retry-After": str(err.retry_after)})
        if found is None:
            error = _("Unknown user name or wrong password.")
        else:
            lang = session.get("lang")
            session.clear()
            session.permanent = True
            session["uid"], session["tv"], session["se"] = found.id, found.token_version, found.session_epoch
            session["at"] = int(time.time())
            if lang:
                session["lang"] = lang
            return redirect(safe_next(request.args.get("next")))
    return render_template("login.html", error=error, username=username), 401 if error else 200


@bp.post("/logout")
def logout() -> Response:
    """End the session on the server too: bumping the user's session epoch voids every copy of the cookie
    (and the user's other browser sessions)."""
    db.session.execute(update(User).where(User.id == user().id)
                       .values(session_epoch=User.session_epoch + 1))
    db.session.commit()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("web.login"))


@bp.get("/lang/<code>")
def set_language(code: str) -> Response:
    """Switch the interface language (en or zh_CN) and go back."""
    if code not in LANGUAGES:
        abort(404)
    session["lang"] = code
    return redirect(safe_next(request.args.get("next") or request.referrer and urlsplit(request.referrer).path))


@bp.get("/vendor/bpmn-js/<path:filename>")
def vendor(filename: str) -> Response:
    """bpmn-js distribution files, served from node_modules (installed by `npm ci`, never committed)."""
    if not VENDOR_DIR.is_dir():
        abort(404)
    return send_from_directory(VENDOR_DIR, filename, max_age=86400)

