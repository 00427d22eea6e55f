"""One-time secrets across a POST-redirect-GET: a create or reset that made a secret (a generated password, an API
key, a webhook's signing secret) keeps it in the session for the one page it redirects to, which takes it out, so
reloading that page neither posts the form again nor shows the secret a second time."""

from __future__ import annotations

from flask import session

_KEY = "reveal"


def keep(kind: str, target: int, secret: str | None) -> None:
    """Hold `secret` (None: nothing to show) for the next page about `kind` `target`."""
    session[_KEY] = {"kind": kind, "id": target, "secret": secret}


def take(kind: str, target: int | None = None) -> tuple[bool, str | None]:
    """(whether something was held for this page, its secret); what is held is dropped either way, so it is
    shown on the first page read after the redirect and never again."""
    held = session.pop(_KEY, None) if _KEY in session else None
    if not isinstance(held, dict) or held.get("kind") != kind or (target is not None and held.get("id") != target):
        return False, None
    secret = held.get("secret")
    return True, secret if isinstance(secret, str) else None
