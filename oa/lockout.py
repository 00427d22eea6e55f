"""Login lockout per client address and account: a client that keeps failing for an account is locked out.

Failures are counted in `login_failure` per (username, client address). After `threshold` failures within
`minutes` of each other, that client is refused for that account for `minutes` — even with the right
password — while the same account still logs in from any client that has not been failing. So an
attacker who guesses wrong ten times locks out only themselves, never the real user. Every change is a
single INSERT … ON CONFLICT DO UPDATE, so concurrent attempts on several workers count correctly.
Unknown usernames get no row (they are left to the rate limit), so the table cannot be filled with junk.
`unlock(session, username)` clears every lock and count of an account (`oaflow user unlock NAME`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from oa import admin_audit
from oa.models import LoginFailure, User
from store.base import utcnow

log = logging.getLogger("oaflow.auth")
MAX_CLIENT = 64  # an IPv6 address with a zone fits


@dataclass(frozen=True)
class LockoutPolicy:
    """Lock a client out of an account after `threshold` failures for `minutes` (threshold 0 disables)."""

    threshold: int = 10
    minutes: float = 15


@dataclass(frozen=True)
class LoginOutcome:
    """What a login attempt amounts to: `user` when it succeeds; `locked_until` when this client is locked."""

    user: User | None
    locked_until: datetime | None = None


def _insert(session: Session):  # noqa: ANN202
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _count_failure(session: Session, username: str, client: str, policy: LockoutPolicy,
                   now: datetime) -> LoginFailure:
    """Add one failure (a count older than the lock window starts again at 1); returns the row as stored.
    Other clients' entries for this account that are past the window and not locked are dropped, so the
    table holds only what is still in force."""
    stale = now - timedelta(minutes=policy.minutes)
    table = LoginFailure.__table__
    session.execute(delete(LoginFailure).where(
        LoginFailure.username == username, LoginFailure.client != client, LoginFailure.last_failure_at < stale,
        or_(LoginFailure.locked_until.is_(None), LoginFailure.locked_until < now)))
    stmt = _insert(session)(table).values(username=username, client=client, failures=1, last_failure_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.username, table.c.client],
        set_={"failures": case((table.c.last_failure_at < stale, 1), else_=table.c.failures + 1),
              "last_failure_at": now})
    session.execute(stmt)
    return session.execute(select(LoginFailure).where(LoginFailure.username == username,
                                                      LoginFailure.client == client)
                           .execution_options(populate_existing=True)).scalar_one()


def register_attempt(session: Session, username: str, authenticated: User | None, policy: LockoutPolicy,
                     *, client: str | None = None, now: datetime | None = None) -> LoginOutcome:
    """Apply the lockout policy to one login attempt of `client` whose password check gave `authenticated`.

    A locked (username, client) pair is refused even with the right password until the lock expires;
    other clients are not affected. A success clears this client's count; a failure increments it and,
    on reaching the threshold, locks the pair and logs a structured `account_locked` line. The caller commits.
    """
    now = now or utcnow()
    client = (client or "unknown")[:MAX_CLIENT]
    if policy.threshold <= 0:
        return LoginOutcome(authenticated)
    account = authenticated or session.scalar(select(User).where(User.username == username))
    if account is None:
        return LoginOutcome(None)
    row = session.get(LoginFailure, (account.username, client), populate_existing=True)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return LoginOutcome(None, row.locked_until)
    if authenticated is not None:
        if row is not None:
            session.execute(delete(LoginFailure).where(LoginFailure.username == account.username,
                                                       LoginFailure.client == client))
        return LoginOutcome(authenticated)
    row = _count_failure(session, account.username, client, policy, now)
    if row.failures < policy.threshold:
        return LoginOutcome(None)
    until = now + timedelta(minutes=policy.minutes)
    row.locked_until, row.failures = until, 0
    session.flush()
    log.warning("account_locked user=%s failures=%s locked_until=%sZ ip=%s", account.username, policy.threshold,
                until.isoformat(timespec="seconds"), client, extra={
                    "event": "account_locked", "user": account.username, "failures": policy.threshold,
                    "locked_until": until.isoformat() + "Z", "ip": client})
    return LoginOutcome(None, until)


def locked_clients(session: Session, username: str, now: datetime | None = None) -> list[LoginFailure]:
    """The clients currently locked out of `username`."""
    now = now or utcnow()
    return list(session.scalars(select(LoginFailure).where(LoginFailure.username == username,
                                                           LoginFailure.locked_until > now)))


def unlock(session: Session, username: str, by: str | None = None) -> int:
    """Clear every lock and failure count of `username` (`by`: who asked, for the log and the administration
    audit trail; None = the command line); returns how many client entries were removed. The caller commits."""
    done = session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    account = session.scalar(select(User).where(User.username == username))
    if account is not None:
        admin_audit.record(session, by or admin_audit.CLI, "user", account.id, admin_audit.user_name(account),
                           "unlocked", {"lockouts_cleared": (None, done.rowcount or 0)})
    log.warning("account_unlocked user=%s entries=%s by=%s", username, done.rowcount, by or "cli",
                extra={"event": "account_unlocked", "user": username, "entries": done.rowcount, "by": by})
    return done.rowcount or 0
