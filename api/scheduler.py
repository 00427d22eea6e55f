"""APScheduler jobs that work through the database, safe with several schedulers: timers, webhook
deliveries, calendar and follow-up reminders, and the public-pool sweep."""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.extensions import db
from api.sqlite_write_gate import held
from engine.transactions import is_lock_error
from store.base import utcnow

log = logging.getLogger("oaflow.scheduler")
LEADER_LOCK_KEY = 0x0AF10  # pg advisory lock id of the scheduler role


class Leadership:
    """On PostgreSQL, exactly one process runs the jobs: the one holding a session advisory lock on a
    connection of its own. When that process dies its connection closes and another takes over at its
    next poll. On SQLite (one host) every scheduler runs; the jobs' own claims keep them exactly-once."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.conn = None

    def is_leader(self) -> bool:
        """True if this process may run the jobs now."""
        with self.app.app_context():
            engine = db.engine
        if engine.dialect.name != "postgresql":
            return True
        try:
            if self.conn is not None:
                self.conn.exec_driver_sql("SELECT 1")
                return True
            conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({LEADER_LOCK_KEY})").scalar():
                self.conn = conn
                log.info("this process now runs the scheduler")
                return True
            conn.close()
            return False
        except Exception:  # lost the database: give up leadership, try again next poll
            log.warning("scheduler leadership lost")
            self.release()
            return False

    def release(self) -> None:
        """Drop leadership (closing the connection releases the lock)."""
        if self.conn is not None:
            try:
                self.conn.invalidate()  # really close it: a pooled connection would keep the lock
            except Exception:  # already broken
                log.debug("leader connection already closed")
            self.conn = None


def _run(app: Flask, name: str, job: Callable[[Session], int | None], *, in_turn: bool = True) -> int:
    """Run one job in its own app context; a failure is logged and retried on the next poll. A job that writes
    (`in_turn`) takes its turn with the requests' writes on SQLite (api.sqlite_write_gate), so a steady stream
    of requests cannot keep it out; deliveries, which wait on other servers, do not hold that turn."""
    if in_turn:
        with held(app) as turn:
            if not turn:
                log.warning("scheduled job %s skipped this round: writes kept the database busy", name)
                return 0
            return _run(app, name, job, in_turn=False)
    with app.app_context():
        try:
            done = job(db.session) or 0
            db.session.commit()
            return done
        except OperationalError as err:
            if not is_lock_error(err):
                log.exception("scheduled job %s failed", name)
            else:  # SQLite busy with requests' writes: not a failure, the next poll tries again
                log.warning("scheduled job %s skipped this round: the database was busy", name)
            db.session.rollback()
            return 0
        except Exception:  # a poll must never kill the scheduler
            log.exception("scheduled job %s failed", name)
            db.session.rollback()
            return 0
        finally:
            db.session.remove()


def fire_timers_once(app: Flask) -> int:
    """Fire every due timer now; returns how many instances advanced."""
    return _run(app, "timers", app.extensions["oaflow_engine"].fire_due_timers)


def deliver_webhooks_once(app: Flask) -> int:
    """Send due webhook deliveries (scoped to what each webhook's owner may read)."""
    from api.webhook_policy import delivery_policy
    from engine.webhooks import deliver_pending
    policy = delivery_policy(app)
    return _run(app, "webhooks", lambda session: deliver_pending(session, policy), in_turn=False)


def deliver_channels_once(app: Flask) -> int:
    """Send due notification-channel deliveries (e-mail, group robots)."""
    from api.channel_delivery import deliver_channels
    allow_private = app.config["OAFLOW_SETTINGS"].webhook_allow_private
    return _run(app, "channels", lambda session: deliver_channels(session, allow_private), in_turn=False)


def run_reminders_once(app: Flask) -> int:
    """Calendar reminders, follow-up reminders, the public-pool sweep, the daily RFM summary refresh and the
    closed-month attendance summary (each on its own)."""
    from crm.follow_ups import fire_due_follow_up_reminders
    from crm.pool import release_stale_customers
    from crm.rfm import refresh_if_stale
    from oa.attendance import refresh_summary
    from oa.calendar import fire_due_reminders
    return sum(_run(app, job.__name__, lambda session, job=job: job(session, utcnow()))
               for job in (fire_due_reminders, fire_due_follow_up_reminders, release_stale_customers,
                           refresh_if_stale, refresh_summary))


def start_scheduler(app: Flask, interval: float | None = None) -> BackgroundScheduler:
    """Start polling every `interval` seconds (OAFLOW_TIMER_POLL by default; reminders at most every 30 s)."""
    seconds = interval or app.config["OAFLOW_SETTINGS"].timer_poll_seconds
    sched = BackgroundScheduler(daemon=True)
    leadership = Leadership(app)

    def when_leader(func: Callable[[Flask], int]) -> Callable[[Flask], int]:
        return lambda a: func(a) if leadership.is_leader() else 0

    for job_id, func, every in (("oaflow-timers", fire_timers_once, seconds),
                                ("oaflow-webhooks", deliver_webhooks_once, seconds),
                                ("oaflow-channels", deliver_channels_once, seconds),
                                ("oaflow-reminders", run_reminders_once, max(seconds, 30))):
        sched.add_job(when_leader(func), "interval", seconds=every, args=[app], id=job_id, max_instances=1,
                      coalesce=True)
    sched.start()
    log.info("scheduler polling every %ss", seconds)
    return sched
