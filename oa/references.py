"""OA record types for typed form references (`x-oaflow-ref`), registered into forms.references by the app.

`oa.user` names a colleague by username: anyone may name any active user (the org chart is public inside
the company), so there is no data scope to check, only existence and the `active` state; service accounts (integrations)
are not colleagues and are refused.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from forms.references import ReferenceRegistry, ReferenceViolation
from oa.models import User
from oa.org import is_service_account


def _user(session: Session, username: str | None, value: Any, edit: bool) -> User:
    """The user named `value`; unknown names are refused."""
    if not isinstance(value, str) or not 0 < len(value) <= 100:
        raise ReferenceViolation("not a username")
    row = session.scalar(select(User).where(User.username == value))
    if row is None:
        raise ReferenceViolation("unknown user")
    if is_service_account(row.roles):
        raise ReferenceViolation("not an employee")
    return row


def register(registry: ReferenceRegistry) -> None:
    """Register oa.user."""
    registry.register("oa.user", _user, states={"active": {True, False}})
