"""Short-lived, per-process caches of reference rows that every request reads and that rarely change:
the user a token names, the org chart, shift rules, the active webhooks.

A value is trusted for `ttl_seconds`, so a burst of requests reads it once instead of once per
request or step. A commit of this process that changed a watched model drops every value of the
caches watching it at once; a change made by another process (another worker or host, a script)
is seen within `ttl_seconds`. Values are kept per database, so processes that talk to several
databases (the test suite) never mix them.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

T = TypeVar("T")
_CACHES: weakref.WeakSet[ReadCache] = weakref.WeakSet()
_CHANGED_KEY = "oaflow.changed_models"


class ReadCache(Generic[T]):
    """Values by key, each read from the database at most once every `ttl_seconds` (see the module)."""

    def __init__(self, name: str, ttl_seconds: float, watch: tuple[type, ...], max_entries: int = 10_000) -> None:
        self.name = name
        self.ttl_seconds = ttl_seconds
        self.watch = watch
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._generation = 0  # bumped by clear(): a read that began before it is not kept
        _CACHES.add(self)

    def get(self, session: Session, key: Hashable, load: Callable[[], T]) -> T:
        """The value for `key`, from `load()` (which reads through `session`) when not held or too old."""
        full_key = (session.get_bind().url, key)
        began = time.monotonic()
        with self._lock:
            held = self._items.get(full_key)
            generation = self._generation
        if held is not None and began - held[0] < self.ttl_seconds:
            return held[1]
        value = load()
        with self._lock:
            if generation == self._generation:
                self._items[full_key] = (began, value)
                self._items.move_to_end(full_key)
                while len(self._items) > self.max_entries:
                    self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        """Drop every value (the next get reads again)."""
        with self._lock:
            self._items.clear()
            self._generation += 1


@event.listens_for(Session, "after_flush")
def _note_changed_models(session: Session, _flush_context: Any) -> None:
    changed = {type(obj) for obj in (*session.new, *session.dirty, *session.deleted)}
    if changed:
        session.info.setdefault(_CHANGED_KEY, set()).update(changed)


@event.listens_for(Session, "do_orm_execute")
def _note_changed_by_statement(state: Any) -> None:
    """The same for INSERT/UPDATE/DELETE statements on a mapped class (update(User)...) run through a session."""
    if (state.is_insert or state.is_update or state.is_delete) and state.bind_mapper is not None:
        state.session.info.setdefault(_CHANGED_KEY, set()).add(state.bind_mapper.class_)


@event.listens_for(Session, "after_commit")
def _drop_changed(session: Session) -> None:
    changed = session.info.pop(_CHANGED_KEY, None)
    if changed:
        for cache in list(_CACHES):
            if any(issubclass(model, cache.watch) for model in changed):
                cache.clear()


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_CHANGED_KEY, None)
