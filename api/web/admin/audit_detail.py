"""The audit trail's Details column as people read it: an administration change's fields by their labels with
old and new values as the admin pages show them (roles and groups by name, 是/否, times in the company zone),
and a process event's step by its translated element name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from api.web.admin.users import ROLE_LABELS
from api.web.formatting import format_date, format_datetime
from api.web.labels import label
from api.web.people import person
from oa.admin_audit import CHANGED, SET

NOTHING = "—"
# the fields oa.admin_audit records (users, departments, groups, API keys, webhooks, unlocks), by the admin
# pages' own words where they have them
FIELD_LABELS: dict[str, Any] = {
    "username": _l("User name"), "display_name": _l("Name"), "email": _l("Email"), "roles": _l("Roles"),
    "department": _l("Department"), "manager": _l("Manager"), "groups": _l("Groups"), "active": _l("Active"),
    "start_date": _l("Start date"), "password": _l("Password"), "name": _l("Name"), "parent": _l("Parent"),
    "head": _l("Head"), "members": _l("Members"), "user": _l("User"), "scopes": _l("Scopes"),
    "act_as": _l("May act on behalf of employees"), "expires_at": _l("Expires"), "prefix": _l("Prefix"),
    "key": _l("API key"), "revoked": _l("Revoked"), "url": _l("URL"), "events": _l("Events"),
    "secret": _l("Signing secret"), "lockouts_cleared": _l("Lockouts cleared"), "kind": _l("Kind"),
    "target": _l("Target"), "group": _l("User group"),
}
# a secret (password, API key, signing secret) is only ever recorded as one of these
SECRET_WORDS = {SET: _l("set (not shown)"), CHANGED: _l("changed (not shown)")}
DATETIME_FIELDS = frozenset({"expires_at"})
DATE_FIELDS = frozenset({"start_date"})
PERSON_FIELDS = frozenset({"manager", "head", "members", "user"})  # usernames: shown by display name


def _one(field: str, value: Any) -> str:
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if field == "roles":
        return str(ROLE_LABELS.get(value, value))
    if field == "groups":
        return label(value)
    if isinstance(value, str) and field in PERSON_FIELDS:
        return person(value)
    if isinstance(value, str) and field in DATETIME_FIELDS:
        try:
            return format_datetime(datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, str) and field in DATE_FIELDS:
        return format_date(value)
    if isinstance(value, str) and field in ("password", "key", "secret"):
        return str(SECRET_WORDS.get(value, value))
    return str(value)


def value_text(field: str, value: Any) -> str:
    """A recorded field value in the reader's language ("—" for nothing; a list joined by commas)."""
    if value is None or value == [] or value == "":
        return NOTHING
    if isinstance(value, list):
        return ", ".join(_one(field, v) for v in value)
    return _one(field, value)


def field_text(field: str) -> str:
    """A recorded field's name in the reader's language (the key itself only if the table lacks it)."""
    found = FIELD_LABELS.get(field)
    return str(found) if found is not None else field


def change_lines(changes: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """(field label, old, new) for each field of an administration audit row's stored changes."""
    out = []
    for field, pair in (changes or {}).items():
        old, new = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        out.append((field_text(field), value_text(field, old), value_text(field, new)))
    return out
