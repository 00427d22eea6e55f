"""Who is asking: the principal of a bearer token, an API key or a password login, read through one
short-lived cache (store.readcache). Used by api.auth (bearer tokens, API keys) and api.camunda.auth (HTTP
Basic for /engine-rest), so neither reaches into the other's private helpers."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select

from api.extensions import db
from oa.models import ApiKey, Group, User, user_group
from store.base import utcnow
from store.readcache import ReadCache

API_KEY_PREFIX = "oak_"


def read_api_key(raw: str, digest: str) -> tuple[Principal, datetime | None] | None:
    """The principal of a valid, unrevoked key of an active user, with the key's expiry; None otherwise."""
    parts = raw[len(API_KEY_PREFIX):].split("_", 1)
    if len(parts) != 2:
        return None
    row = db.session.scalar(select(ApiKey).where(ApiKey.prefix == parts[0]))
    if row is None or row.revoked or not hmac.compare_digest(row.key_hash, digest):
        return None
    if not row.user.active:
        return None
    return replace(principal_of(row.user), act_as=row.act_as, scopes=frozenset(row.scopes or []), key_id=row.id,
                   key_expires_at=row.expires_at), row.expires_at


def principal_from_api_key(raw: str) -> Principal | None:
    """The principal of an API key secret (None if unknown, revoked, of an inactive user or expired)."""
    digest = hashlib.sha256(raw.encode()).hexdigest()
    found = PRINCIPALS.get(db.session, ("api key", digest), lambda: read_api_key(raw, digest))
    if found is None or (found[1] is not None and found[1] < utcnow()):
        return None
    return found[0]


@dataclass(frozen=True)
class Principal:
    """Who is asking: what every request needs of its user, read without building the ORM object."""

    id: int
    username: str
    roles: frozenset[str]
    groups: frozenset[str]
    act_as: bool = False  # an API key that may start flows on behalf of employees
    scopes: frozenset[str] = frozenset()  # an API key's scopes (api.key_scopes); empty = unrestricted
    key_id: int | None = None  # the API key the request came with (None: a token or session)
    key_expires_at: datetime | None = None  # ... and when that key expires

    def has_role(self, *roles: str) -> bool:
        """True if the user holds any of `roles`."""
        return any(r in self.roles for r in roles)


_users, _groups = User.__table__, Group.__table__
# the user's row and group names in one statement (a row per group; one row with no group name if none)
_PRINCIPAL_BY_ID = (
    select(_users.c.username, _users.c.roles, _users.c.active, _users.c.token_version, _users.c.session_epoch,
           _groups.c.name)
    .select_from(_users.outerjoin(user_group, user_group.c.user_id == _users.c.id)
                 .outerjoin(_groups, _groups.c.id == user_group.c.group_id))
    .where(_users.c.id == bindparam("uid")))


# The user a token or API key names, as each worker last read it (see store.readcache): deactivating a
# user, revoking their tokens (token_version) or keys, or changing their roles and groups applies at once
# on the worker that made the change and within 2 s on every other worker (or host). Expiry is checked
# on every request.
PRINCIPALS: ReadCache[Any] = ReadCache("principals", 2.0, (User, Group, ApiKey))


def read_principal(uid: int, token_version: Any, session_epoch: Any = None) -> Principal | None:
    """The principal a token names, or None if the user is inactive, the token revoked, or (for a web
    page's token, which carries `session_epoch`) the session it was minted for has ended."""
    rows = db.session.connection().execute(_PRINCIPAL_BY_ID, {"uid": uid}).all()
    if not rows or not rows[0].active or rows[0].token_version != token_version:
        return None
    if session_epoch is not None and rows[0].session_epoch != session_epoch:
        return None
    return Principal(uid, rows[0].username, frozenset(rows[0].roles or []),
                     frozenset(r.name for r in rows if r.name is not None))


def principal_of(user: User) -> Principal:
    """The principal of a user row read by the ORM (after a password login)."""
    return Principal(user.id, user.username, frozenset(user.roles or []), frozenset(gr.name for gr in user.groups))
