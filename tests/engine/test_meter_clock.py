"""The sandbox's time limit counts the running thread's CPU time: waiting (a busy server) does not fail an
honest expression, burning CPU stops a hostile one."""

from __future__ import annotations

import threading
import time

import pytest

from engine.sandbox.limits import TimeLimitExceeded
from engine.sandbox.meter import Meter


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
