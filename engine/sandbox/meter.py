"""``Meter``: the bookkeeping of one sandboxed run -- a deadline in the running thread's CPU time, a total work
cap, a cap on resident-memory growth (in-process runs) and the per-operation size checks every guard builds on.

The deadline counts the CPU time of the thread running the expression, not the wall clock: a hostile expression
burns CPU and is stopped as surely, while an honest one on a loaded server (other threads holding the
interpreter, other processes the cores, a garbage collection) is not failed for waiting its turn - which put
an approval in error as "manager_of(initiator) exceeded the time limit" under a 200-request burst. Two kinds of
CPU time the expression did not spend on its own work do not count either: the cyclic garbage collector's
passes that happen to run in this thread (a full pass over a big server heap took more than the whole
deadline on a busy CI machine), and the org-chart helpers' database reads (``host_call``), which have their own,
larger allowance (``HOST_TIME_LIMIT``) and a cap on their number (``MAX_HOST_CALLS``). Script tasks
run in worker processes whose parent kills them on the wall clock at script_timeout + WORKER_GRACE
(engine.sandbox.pool): their meter counts CPU time like the rest, with a wall-clock cap half a grace before that
kill (`wall_limit`), so on a starved machine the worker still stops itself first and the error names the line."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

from .limits import (
    MAX_INT_BITS,
    MAX_INT_COST,
    MemoryLimitExceeded,
    SandboxStop,
    SandboxViolation,
    SizeLimitExceeded,
    TimeLimitExceeded,
    WorkLimitExceeded,
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _division_cost(a_bits: int, b_bits: int) -> int:
    """Products of 30-bit digits CPython's long division does for an a_bits by b_bits division."""
    return (max(a_bits - b_bits, 0) // 30 + 1) * (b_bits // 30 + 1)


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _rss_bytes() -> int | None:
    """Resident set size of this process, or None where /proc is not available."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


class _CollectorClock(threading.local):
    """CPU seconds the cyclic garbage collector has spent in this thread (see ``_count_collection``)."""

    spent = 0.0
    started: float | None = None


_COLLECTOR = _CollectorClock()


def _count_collection(phase: str, _info: dict[str, Any]) -> None:
    """gc callback: add each collection's CPU time to the running thread's total."""
    if phase == "start":
        _COLLECTOR.started = time.thread_time()
    elif _COLLECTOR.started is not None:
        _COLLECTOR.spent += time.thread_time() - _COLLECTOR.started
        _COLLECTOR.started = None


if _count_collection not in gc.callbacks:
    gc.callbacks.append(_count_collection)

HOST_TIME_LIMIT = 2.0   # CPU seconds one run may spend inside host helpers (org-chart reads)
MAX_HOST_CALLS = 1_000  # host helper calls in one run

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
RSS_CHECK_INTERVAL = 0.002  # seconds between two looks at the resident memory during one run


class Meter:
    """Bookkeeping for one run: a deadline, per-operation size caps and an optional total work cap."""

    def __init__(self, what: str, timeout: float, max_sequence: int, work_limit: int | None,
                 memory_growth: int | None = None, clock: Callable[[], float] = time.thread_time,
                 wall_limit: float | None = None) -> None:
        self.what = what
        self.timeout = timeout
        self.clock = clock
        self.started = clock()
        # a cap on the wall clock too (script workers: just before their parent's kill, so the error names the line)
        self.wall_deadline = time.monotonic() + wall_limit if wall_limit is not None else None
        self.deadline = self.started + timeout
        self.collector_spent = _COLLECTOR.spent if clock is time.thread_time else None
        self.host_time = 0.0
        self.host_calls = 0
        self.max_sequence = max_sequence
        self.work_limit = work_limit
        self.work = 0
        self.ticks = 0
        self.stopped: SandboxStop | None = None
        # In-process runs cannot use RLIMIT_AS: resident memory is sampled instead (lazily, so a
        # short expression never pays for it) and may not grow by more than memory_growth bytes.
        self.memory_growth = memory_growth
        self.next_memory_check = self.started + RSS_CHECK_INTERVAL
        self.memory_baseline: int | None = None

    # -- bookkeeping

    def stop(self, err: SandboxStop) -> None:
        self.stopped = err
        raise err

    def charge(self, units: int = 1) -> None:
        """Count work; raise once the deadline or the work cap has passed (and on every call after)."""
        if self.stopped is not None:
            raise type(self.stopped)(*self.stopped.args)
        self.work += units
        self.ticks += 1
        if self.work_limit is not None and self.work > self.work_limit:
            self.stop(WorkLimitExceeded(
                f"{self.what} exceeded the work limit of {self.work_limit:,} steps "
                "(too many loop iterations or too much data built)"))
        now = self.clock()  # every call: one C-level step between two calls may be slow
        if now > self.deadline and self.collector_spent is not None:  # rare: only then ask what the collector took
            self.deadline += _COLLECTOR.spent - self.collector_spent
            self.collector_spent = _COLLECTOR.spent
        if now > self.deadline or (self.wall_deadline is not None and time.monotonic() > self.wall_deadline):
            self.stop(TimeLimitExceeded(f"{self.what} exceeded the time limit of {_seconds(self.timeout)}"))
        if self.memory_growth is not None and now >= self.next_memory_check:
            self.check_memory(now)

    def host_call(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a trusted host helper (an org-chart read) for the sandboxed code: its time is kept off the
        run's deadline and counted against ``HOST_TIME_LIMIT``; more than ``MAX_HOST_CALLS`` calls are refused."""
        self.host_calls += 1
        if self.host_calls > MAX_HOST_CALLS:
            self.stop(WorkLimitExceeded(f"{self.what} called helper functions more than {MAX_HOST_CALLS:,} times"))
        started = self.clock()
        try:
            return func(*args, **kwargs)
        finally:
            spent = self.clock() - started
            self.host_time += spent
            self.deadline += spent
            if self.host_time > HOST_TIME_LIMIT:
                self.stop(TimeLimitExceeded(
                    f"{self.what} exceeded the time limit of {_seconds(HOST_TIME_LIMIT)} for helper functions"))
            self.charge(1)

    def check_memory(self, now: float) -> None:
        """Refuse once this process's resident memory grew by more than ``memory_growth`` bytes."""
        self.next_memory_check = now + RSS_CHECK_INTERVAL
        rss = _rss_bytes()
        if rss is None or self.memory_growth is None:
            return
        if self.memory_baseline is None:
            self.memory_baseline = rss
        elif rss - self.memory_baseline > self.memory_growth:
            self.stop(MemoryLimitExceeded(
                f"{self.what} exceeded the memory limit of {self.memory_growth / 2**20:g} MB"))

    def check_size(self, n: int) -> None:
        if n > self.max_sequence:
            self.stop(SizeLimitExceeded(
                f"{self.what} tried to build a sequence of {n:,} items; the limit is {self.max_sequence:,}"))
        self.charge(max(n, 1))

    def check_bits(self, bits: int) -> None:
        if bits > MAX_INT_BITS:
            self.stop(SizeLimitExceeded(
                f"{self.what} tried to compute a number of about {bits:,} bits; "
                f"the limit is {MAX_INT_BITS:,}"))
        self.charge(max(bits // 64, 1))

    def refuse(self, message: str) -> None:
        raise SandboxViolation(message)

    # -- statement / iteration guards

    def tick(self) -> None:
        self.charge(1)

    def getiter(self, obj: Iterable[Any]) -> Iterator[Any]:
        iterator = iter(obj)
        charge = self.charge

        def counted() -> Iterator[Any]:
            for item in iterator:
                charge(1)
                yield item
        return counted()

    def iter_unpack_sequence(self, it: Any, spec: Any, _getiter_: Any) -> Any:
        return guarded_iter_unpack_sequence(it, spec, self.getiter)

    def unpack_sequence(self, it: Any, spec: Any, _getiter_: Any) -> Any:
        return guarded_unpack_sequence(it, spec, self.getiter)

    def check_int_cost(self, cost: int) -> None:
        """Refuse one integer operation whose C-level cost would outlive any deadline (it cannot be
        interrupted and holds the GIL), and charge it as work."""
        if cost > MAX_INT_COST:
            self.stop(SizeLimitExceeded(
                f"{self.what} tried an integer operation too large to finish in time (about {cost:,} "
                f"digit operations; the limit is {MAX_INT_COST:,})"))
        self.charge(max(cost // 1000, 1))

