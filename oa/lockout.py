"""Account lockout: after N consecutive failed logins an account refuses logins for M minutes.

The counter lives on `user_account` (failed_logins, locked_until) and is changed with single UPDATE
statements, so concurrent attempts from several workers count correctly. Unknown usernames have no
row and are left to the per-username rate limit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from oa.models import User
from store.base import utcnow

log = logging.getLogger("oaflow.auth")


@dataclass(frozen=True)
class LockoutPolicy:
    """Lock after `threshold` consecutive failures for `minutes` (threshold 0 disables lockout)."""

    threshold: int = 10
    minutes: float = 15


@dataclass(frozen=True)
class LoginOutcome:
    """What a login attempt amounts to: `user` when it succeeds; `locked_until` when the account is locked."""

    user: User | None
    locked_until: datetime | None = None


def register_attempt(session: Session, username: str, authenticated: User | None, policy: LockoutPolicy,
                     *, ip: str | None = None, now: datetime | None = None) -> LoginOutcome:
    """Apply the lockout policy to one login attempt whose password check gave `authenticated`.

    A locked account refuses even the right password until the lock expires. A success resets the
    counter; a failure increments it and, on reaching the threshold, locks the account and logs a
    structured `account_locked` line. The caller commits.
    """
    now = now or utcnow()
    account = authenticated or session.scalar(select(User).where(User.username == username))
    if account is None or policy.threshold <= 0:
        return LoginOutcome(authenticated)
    if account.locked_until is not None and account.locked_until > now:
        return LoginOutcome(None, account.locked_until)
    if authenticated is not None:
        if account.failed_logins or account.locked_until is not None:
            session.execute(update(User).where(User.id == account.id).values(failed_logins=0, locked_until=None))
            session.refresh(account)
        return LoginOutcome(authenticated)
    failures = session.execute(update(User).where(User.id == account.id)
                               .values(failed_logins=User.failed_logins + 1)
                               .returning(User.failed_logins)).scalar_one()
    if failures < policy.threshold:
        return LoginOutcome(None)
    until = now + timedelta(minutes=policy.minutes)
    session.execute(update(User).where(User.id == account.id).values(locked_until=until, failed_logins=0))
    log.warning("account_locked user=%s failures=%s locked_until=%sZ ip=%s", account.username, failures,
                until.isoformat(timespec="seconds"), ip, extra={
        "event": "account_locked", "user": account.username, "failures": failures,
        "locked_until": until.isoformat() + "Z", "ip": ip})
    return LoginOutcome(None, until)
