"""Security headers on every response: a Content-Security-Policy without inline script, no framing,
no MIME sniffing, no referrer to other sites, and HSTS when the deployment uses secure cookies (HTTPS).

The pages load script only from files under /static/web and the bpmn-js bundle (both 'self'); data
reaches scripts through data-* attributes, never inline <script> blocks or on*= handlers. A response
that already sets its own policy (a document download's sandbox) keeps it.
"""

from __future__ import annotations

from flask import Flask, Response, current_app

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# Sent only when the deployment runs behind HTTPS (OAFLOW_SECURE_COOKIES=1), never on plain-HTTP set-ups.
HSTS = "max-age=31536000"


def add_security_headers(response: Response) -> Response:
    """Set the security headers that `response` does not set itself."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_security_headers(app: Flask) -> None:
    """Add the security headers to every response of `app`."""
    app.after_request(add_security_headers)
