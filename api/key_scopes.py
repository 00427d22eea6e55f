"""API key scopes: what a key with scopes may do (a key without scopes may do whatever its user may).

`start:<process key>` (or `start:*`) starts that process (and reads its start form); `read:instances` reads
process instances; `read:crm` reads CRM records; `write:crm` changes them. Anything else is 403 for a
scoped key: it cannot manage keys or webhooks, complete tasks or read other records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SCOPE = re.compile(r"start:(\*|[A-Za-z_][A-Za-z0-9_.-]{0,99})|read:instances|read:crm|write:crm")
MAX_SCOPES = 20
CRM_BLUEPRINTS = frozenset({"customers", "contacts", "contracts", "follow_ups", "opportunities", "receivables",
                            "reports_crm", "targets", "tickets"})
_READ = frozenset({"GET", "HEAD"})


def valid_scope(scope: str) -> bool:
    """True for a scope string a key may carry."""
    return SCOPE.fullmatch(scope) is not None


def allows(scopes: Iterable[str], method: str, blueprint: str | None, endpoint: str | None,
           view_args: dict | None) -> bool:
    """May a key with `scopes` make this request (a Flask request's method, blueprint, endpoint, view args)?"""
    granted = frozenset(scopes)
    if blueprint in CRM_BLUEPRINTS:
        return ("read:crm" if method in _READ else "write:crm") in granted
    if endpoint in ("definitions.start", "definitions.start_form"):
        key = (view_args or {}).get("key")
        is_start = endpoint == "definitions.start" and method == "POST"
        return (is_start or method in _READ) and ("start:*" in granted or f"start:{key}" in granted)
    if blueprint == "instances":
        return method in _READ and "read:instances" in granted
    return False


def within(requested: Iterable[str], own: Iterable[str]) -> bool:
    """True if a key with scopes `requested` may do no more than one with `own` (empty = everything)."""
    own = frozenset(own)
    if not own:
        return True
    requested = frozenset(requested)
    if not requested:  # unrestricted
        return False
    return all(s in own or (s.startswith("start:") and "start:*" in own) for s in requested)


def explain(scopes: Iterable[str]) -> str:
    """A short list of a key's scopes for a 403 message."""
    return ", ".join(sorted(scopes)) or "(none)"
