"""Write transactions: begin one that may write, run a command in it, and map lock failures to 409.

When a service operation fails, the command's transaction is rolled back and the command runs again
with that run of the operation recorded as failed (the instance's incident, saved with the rest).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.orm.exc import StaleDataError

from engine.context import FAILED_OPERATIONS, OperationFailed
from engine.errors import Conflict

T = TypeVar("T")

# a command whose operations keep failing differently on every attempt gives up after this many
MAX_COMMAND_ATTEMPTS = 5
_WROTE_KEY = "oaflow.wrote"


def is_sqlite(session: Session) -> bool:
    """True when the session talks to SQLite (no row locks: the whole database is locked to write)."""
    return session.get_bind().dialect.name == "sqlite"


def begin_write(session: Session) -> None:
    """Make the session's transaction one that may write.

    SQLite: end any read transaction and BEGIN IMMEDIATE (a read transaction cannot safely be upgraded).
    PostgreSQL: a transaction that has only read (the request's authentication, say) simply goes on,
    saving a COMMIT and a BEGIN; one holding the caller's writes is committed first, so that a failed
    command rolls back only its own work.
    """
    real = session() if isinstance(session, scoped_session) else session
    if real.in_transaction():
        wrote = real.info.get(_WROTE_KEY, False)
        if not (is_sqlite(real) or wrote or real.new or real.dirty or real.deleted):
            return
        real.commit()
    real.connection(execution_options={"oaflow_write": True})


@sa_event.listens_for(Session, "after_flush")
def _note_write(session: Session, _flush_context: Any) -> None:
    """Remember that the current transaction has written (begin_write commits that before a command)."""
    session.info[_WROTE_KEY] = True


@sa_event.listens_for(Session, "do_orm_execute")
def _note_statement_write(state: Any) -> None:
    """The same for INSERT/UPDATE/DELETE statements run through the session without the unit of work."""
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE_KEY] = True


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_write(session: Session, transaction: Any) -> None:
    """A new transaction starts clean."""
    if transaction.parent is None:
        session.info.pop(_WROTE_KEY, None)


def is_lock_error(err: OperationalError) -> bool:
    """True for the database's lock, busy, deadlock and serialization failures."""
    text = str(err.orig).lower() if err.orig else str(err).lower()
    return "locked" in text or "busy" in text or "deadlock" in text or "could not serialize" in text


def run_transaction(session: Session, work: Callable[[], T]) -> T:
    """Run `work` in one write transaction; map concurrency failures to Conflict.

    When a service operation fails, everything is rolled back and `work` runs once more, the
    operation's run now recorded as failed (the instance's incident, saved with the rest).
    """
    failed: dict[tuple[str, int], str] = {}
    token = FAILED_OPERATIONS.set(failed)
    try:
        for _attempt in range(MAX_COMMAND_ATTEMPTS):
            try:
                return _attempt_once(session, work)
            except OperationFailed as failure:
                if failure.key in failed:  # cannot happen: a recorded failure is never run again
                    raise RuntimeError(f"operation {failure.key} failed twice") from None
                failed[failure.key] = failure.message
        raise RuntimeError(f"gave up after {MAX_COMMAND_ATTEMPTS} attempts: service operations kept "
                           f"failing ({', '.join(f'{e} #{n}' for e, n in failed)})")
    finally:
        FAILED_OPERATIONS.reset(token)


def _attempt_once(session: Session, work: Callable[[], T]) -> T:
    begin_write(session)
    try:
        result = work()
        session.commit()
        return result
    except StaleDataError as err:
        session.rollback()
        raise Conflict("the instance was changed by someone else at the same time; reload and retry") from err
    except OperationalError as err:
        session.rollback()
        if is_lock_error(err):
            raise Conflict("the instance is busy (changed concurrently); retry") from err
        raise
    except BaseException:
        session.rollback()
        raise
