"""API key management shared by the CLI and the API: expiry durations, scope checks and the listed shape."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from api.key_scopes import MAX_SCOPES, valid_scope
from oa.models import ApiKey
from store.base import utcnow

MAX_KEYS_PER_USER = 50
MAX_EXPIRY = timedelta(days=3650)
_DURATION = re.compile(r"([1-9][0-9]{0,5})([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_expiry(text: str) -> datetime:
    """The moment a key given `text` (e.g. 30d, 12h, 90m, 2w; at most ten years) from now expires.

    Raises ValueError naming the accepted forms otherwise."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError("give a duration such as 30d, 12h, 90m or 2w")
    span = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if span > MAX_EXPIRY:
        raise ValueError("at most 3650 days")
    return utcnow() + span


def check_scopes(scopes: list[str]) -> list[str]:
    """The scopes without duplicates; ValueError naming the first bad one (or too many)."""
    if len(scopes) > MAX_SCOPES:
        raise ValueError(f"at most {MAX_SCOPES} scopes")
    for scope in scopes:
        if not valid_scope(scope):
            raise ValueError(f"unknown scope {scope[:100]!r}: use start:<process key>, start:*, "
                             "read:instances, read:crm or write:crm")
    return list(dict.fromkeys(scopes))


def key_out(row: ApiKey) -> dict:
    """An API key as listed: never its secret or hash, only the prefix that identifies it."""
    return {"id": row.id, "name": row.name, "prefix": row.prefix, "user": row.user.username,
            "scopes": list(row.scopes or []), "act_as": row.act_as, "revoked": row.revoked,
            "expires_at": row.expires_at.isoformat() if row.expires_at else None,
            "created_at": row.created_at.isoformat(),
            "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None}
