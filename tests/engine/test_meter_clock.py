"""The sandbox's time limit counts the running thread's CPU time: waiting (a busy server) does not fail an
honest expression, burning CPU stops a hostile one."""

from __future__ import annotations

import gc
import threading
import time

import pytest

from engine.sandbox.environment import SandboxEnvironment
from engine.sandbox.limits import TimeLimitExceeded, WorkLimitExceeded
from engine.sandbox.meter import MAX_HOST_CALLS, Meter


def test_time_spent_waiting_does_not_count() -> None:
    meter = Meter("Expression", 0.05, 1000, None)
    threading.Event().wait(0.2)  # four times the limit passes on the wall clock, hardly any on the CPU
    meter.charge()  # no TimeLimitExceeded


def test_burning_cpu_is_stopped() -> None:
    meter = Meter("Expression", 0.05, 1000, None)
    began = time.thread_time()
    with pytest.raises(TimeLimitExceeded, match="time limit of 0.05s"):
        while True:
            meter.charge()
    assert time.thread_time() - began < 1  # stopped soon after the limit, not left to run


def test_a_script_workers_meter_has_a_wall_clock_cap_before_its_parents_kill() -> None:
    """Script tasks run in worker processes that the parent kills on the wall clock: their meter counts CPU time
    but also stops them at a wall-clock cap first (so the error can name the line), however little CPU a loaded
    machine gave them."""
    meter = Meter("Script", 10, 1000, None, wall_limit=0.05)
    threading.Event().wait(0.2)  # no CPU spent, the wall clock past the limit
    with pytest.raises(TimeLimitExceeded, match="time limit of 10s"):
        meter.charge()


def _burn(seconds: float) -> None:
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_garbage_collection_in_the_running_thread_does_not_count() -> None:
    """A full collection over a big heap can take longer than the whole deadline on a busy server: it is not the
    expression's work, so it is kept off the deadline; the expression's own CPU time still counts."""
    heap = [[i] for i in range(1_000_000)]  # a big heap of tracked containers, as on a long-running server
    meter = Meter("Expression", 0.02, 1000, None)
    began = time.thread_time()
    gc.collect()
    assert time.thread_time() - began > 0.02  # the collection alone took more than the limit
    meter.charge()  # no TimeLimitExceeded
    del heap
    _burn(0.05)
    with pytest.raises(TimeLimitExceeded):
        meter.charge()


def test_helper_calls_have_their_own_allowance() -> None:
    """Org-chart helpers (database reads) run outside the expression's deadline, up to HOST_TIME_LIMIT in all and
    MAX_HOST_CALLS calls; the expression's own time keeps its limit."""
    meter = Meter("Expression", 0.05, 10_000, None)
    assert meter.host_call(_burn, 0.1) is None and meter.host_call(_burn, 0.1) is None  # 4x the limit, in helpers
    meter.charge()
    with pytest.raises(TimeLimitExceeded, match="time limit of 2s for helper functions"):
        while True:
            meter.host_call(_burn, 0.2)
    calls = Meter("Expression", 5, 10_000, None)
    with pytest.raises(WorkLimitExceeded, match=f"more than {MAX_HOST_CALLS:,} times"):
        for _ in range(MAX_HOST_CALLS + 1):
            calls.host_call(len, "x")


def test_an_expression_calling_a_slow_helper_twice_is_not_failed() -> None:
    """manager_of(initiator) on a loaded database: the look-ups' time is not the expression's."""
    environment = SandboxEnvironment(globals={"manager_of": lambda name: _burn(0.4) or f"boss of {name}"})
    assert environment.evaluate("[manager_of(initiator), manager_of('x')]", {"initiator": "alice"}) \
        == ["boss of alice", "boss of x"]
