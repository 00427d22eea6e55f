"""On SQLite, one writing request at a time per process, in the order they arrived.

SQLite lets one transaction write at a time, and every request that may write (anything but GET, HEAD,
OPTIONS) begins its transaction IMMEDIATE. Left to SQLite, waiting writers poll the lock with growing
sleeps and each holds a pooled connection meanwhile: under a burst (two hundred starts at once) the
unlucky ones pass the busy timeout or the pool timeout and answer 503 although every one would have
finished within seconds. This gate queues them in the process instead, first come first served, before
they touch the database; SQLite's busy timeout is left for other processes (the CLI, a second server).
A writer still waiting after `OAFLOW_SQLITE_WRITE_WAIT` seconds (default 60) answers 503 with Retry-After.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from flask import Flask, current_app, g, has_request_context, request

log = logging.getLogger("oaflow.api")
_HELD = "_oaflow_write_gate"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class FifoGate:
    """A lock handed to waiters in arrival order; acquiring may time out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._held = False
        self._by_client: dict[str, int] = {}  # waiters per client key

    def acquire(self, timeout: float, client: str = "") -> bool:
        """Wait up to `timeout` seconds for the gate; True once held. `client` is counted while it waits."""
        with self._lock:
            if not self._held and not self._waiters:
                self._held = True
                return True
            turn = threading.Event()
            self._waiters.append(turn)
            self._by_client[client] = self._by_client.get(client, 0) + 1
        try:
            if turn.wait(timeout):
                return True
            with self._lock:
                if turn.is_set():  # handed over just as the wait ran out
                    return True
                self._waiters.remove(turn)
                return False
        finally:
            with self._lock:
                left = self._by_client[client] - 1
                if left:
                    self._by_client[client] = left
                else:
                    del self._by_client[client]

    def waiting(self, client: str | None = None) -> int:
        """How many are queued behind the holder (of one client, if given)."""
        with self._lock:
            return len(self._waiters) if client is None else self._by_client.get(client, 0)

    def release(self) -> None:
        """Hand the gate to the longest waiter, or open it."""
        with self._lock:
            if self._waiters:
                self._waiters.popleft().set()  # still held: now by the next waiter
            else:
                self._held = False


class RefusalLog:
    """Warn about refused writes at most once per `every` seconds, with how many were refused since the last
    line: a flood of refused requests must not become a flood of log lines."""

    def __init__(self, every: float = 10.0) -> None:
        self.every = every
        self._lock = threading.Lock()
        self._last = float("-inf")
        self._quiet = 0

    def note(self, message: str) -> None:
        """Count one refusal; log it (with the count of those not logged) unless a line went out lately."""
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.every:
                self._quiet += 1
                return
            quiet, self._quiet, self._last = self._quiet, 0, now
        log.warning("%s%s", message, f" ({quiet} more refused since the last such line)" if quiet else "")


# never refused for the queue's cap or a client's share: log-ins (so a flood cannot lock people out), and an
# external-task fetch, which is short (a long poll steps out while it waits) and which a Camunda client sends
# from several worker threads under one key at once
UNCAPPED_PATHS = frozenset({"/login", "/api/v1/auth/token", "/engine-rest/external-task/fetchAndLock"})


def _client_key() -> str:
    """Who is asking, for the queue's per-client share: their credential (bearer token, API key or session
    cookie), else their address. Kept in memory only, hashed."""
    from api.throttle import client_ip
    credential = request.headers.get("Authorization") or request.cookies.get("oaflow_session") or ""
    return hashlib.sha256(credential.encode()).hexdigest()[:32] if credential else f"ip:{client_ip()}"


def writing_request() -> bool:
    """True inside an HTTP request whose method may change data."""
    return has_request_context() and request.method not in READ_METHODS


@contextmanager
def stepped_aside() -> Iterator[None]:
    """Let other writers through while this request waits for something (a long poll between two looks):
    ends the request's transaction, leaves the gate, and queues again afterwards (503 if that times out)."""
    if not (has_request_context() and g.get(_HELD)):
        yield
        return
    from api.errors import ServiceBusy
    from api.extensions import db
    gate: FifoGate = current_app.extensions["oaflow_sqlite_write_gate"]
    db.session.rollback()
    g.pop(_HELD)
    gate.release()
    yield
    if not gate.acquire(current_app.config["OAFLOW_SQLITE_WRITE_WAIT"]):
        raise ServiceBusy("other changes kept the database busy; retry shortly")
    setattr(g, _HELD, True)


@contextmanager
def held(app: Flask) -> Iterator[bool]:
    """Hold the app's gate outside a request (a scheduler job that writes), in turn with the requests; yields
    False when the queue did not move within the wait (the job then skips this round). Without a gate
    (PostgreSQL) it yields True at once."""
    gate: FifoGate | None = app.extensions.get("oaflow_sqlite_write_gate")
    if gate is None:
        yield True
        return
    if not gate.acquire(app.config["OAFLOW_SQLITE_WRITE_WAIT"]):
        yield False
        return
    try:
        yield True
    finally:
        gate.release()


def install(app: Flask, wait_seconds: float, max_waiting: int = 0) -> None:
    """Queue the app's writing requests through one gate; call before any other before_request hook is added.
    `max_waiting` (0: no cap) bounds the queue: under a server with a fixed number of threads, writers
    waiting in it must leave threads for reads and /healthz, so one past the cap answers 503 at once. One
    client (credential, else address) may fill at most half of it, so one flood does not lock everyone else's
    writes out; log-ins are never refused for the cap."""
    from api.errors import ServiceBusy
    from api.extensions import db

    gate = FifoGate()
    app.extensions["oaflow_sqlite_write_gate"] = gate
    app.config["OAFLOW_SQLITE_WRITE_WAIT"] = wait_seconds

    def busy(detail: str) -> NoReturn:
        """Refuse: raised, so the API answers problem+json, a page an HTML page, /engine-rest Camunda's shape."""
        raise ServiceBusy(detail)

    share = max(1, max_waiting // 2)  # of the queue, the most one client may fill
    refusals = RefusalLog()

    def enter() -> None:
        g.started = time.perf_counter()  # the access log's duration includes the time queued
        if not writing_request():
            return None
        client = _client_key()
        if max_waiting and request.path not in UNCAPPED_PATHS:
            if gate.waiting(client) >= share:
                refusals.note(f"{request.method} {request.path} refused: this client has {share} writes queued")
                busy(f"{share} of your changes are already waiting for the database; retry shortly")
            if gate.waiting() >= max_waiting:
                refusals.note(f"{request.method} {request.path} refused: {max_waiting} writes already queued")
                busy(f"{max_waiting} changes are already waiting for the database; retry shortly")
        if request.content_length or request.headers.get("Transfer-Encoding"):
            # the body first (up to the request size cap; parsing later reads this copy): a client that sends
            # it slowly must not hold the gate meanwhile
            request.get_data(cache=True, parse_form_data=False)
        if not gate.acquire(wait_seconds, client):
            refusals.note(f"{request.method} {request.path} waited {wait_seconds:.0f} s for the SQLite write gate")
            busy(f"other changes kept the database busy for {wait_seconds:.0f} s; retry shortly")
        setattr(g, _HELD, True)
        return None

    def leave(_exc: BaseException | None) -> None:
        if not g.pop(_HELD, False):
            return
        try:  # end the request's transaction first, so the next writer's BEGIN IMMEDIATE does not wait for it
            db.session.remove()
        except Exception as err:  # noqa: BLE001  a broken connection: the pool replaces it
            log.warning("could not end the database session cleanly: %s", str(err).splitlines()[0][:300])
        finally:
            gate.release()

    app.before_request_funcs.setdefault(None, []).insert(0, enter)
    app.teardown_request(leave)
