"""Runs hostile expressions and scripts through the sandbox in a process of its own and reports, per
case, how it ended, how long it took, the resident memory and the longest stall of a heartbeat
thread (a stalled heartbeat means the GIL was held: every other request of the worker would wait).

Used by tests/engine/test_sandbox_limits.py: cases come as JSON on stdin, one JSON line per case
goes to stdout. A hard address-space cap protects the machine if a guard regresses."""

from __future__ import annotations

import json
import resource
import sys
import threading
import time
from typing import Any

SAFETY_NET_BYTES = 3 * 2**30


def _busy(seconds: float) -> None:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        pass


def slow(value: Any = None) -> Any:
    """A runtime helper that takes 20 ms (like an org-chart look-up on a loaded database)."""
    _busy(0.02)
    return value


def _rss_mb() -> float:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


class Heartbeat(threading.Thread):
    """Wakes every 5 ms and remembers the longest gap between two wake-ups."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.last = time.monotonic()
        self.max_gap = 0.0
        self.lock = threading.Lock()

    def run(self) -> None:
        while True:
            time.sleep(0.005)
            now = time.monotonic()
            with self.lock:
                self.max_gap = max(self.max_gap, now - self.last)
                self.last = now

    def reset(self) -> None:
        with self.lock:
            self.last = time.monotonic()
            self.max_gap = 0.0


def main() -> None:
    """Read the cases, run each, print one JSON line per case."""
    resource.setrlimit(resource.RLIMIT_AS, (SAFETY_NET_BYTES, SAFETY_NET_BYTES))
    from engine.scripting import SandboxEnvironment, ScriptError, shutdown_workers

    cases = json.load(sys.stdin)
    env = SandboxEnvironment(globals={"slow": slow})
    env.execute("x = len([1, 2])", {})  # start a worker before measuring
    heartbeat = Heartbeat()
    heartbeat.start()
    baseline = _rss_mb()
    print(json.dumps({"baseline_mb": baseline}), flush=True)
    for case in cases:
        data = dict(case.get("data") or {})
        if "big_text" in data:
            data["big_text"] = "9" * data["big_text"]
        heartbeat.reset()
        started, cpu_started = time.monotonic(), time.thread_time()
        out: dict[str, Any] = {"source": case["source"]}
        try:
            if case["mode"] == "eval":
                result = env.evaluate(case["source"], data)
                out.update(ok=True, result=repr(result)[:200])
            else:
                env.execute(case["source"], data)
                out.update(ok=True, result=repr(sorted(data))[:200])
        except ScriptError as err:
            out.update(ok=False, kind=getattr(err, "kind", None), type=type(err).__name__, message=str(err)[:500])
        except BaseException as err:  # noqa: BLE001 - anything else is a sandbox failure to report
            out.update(ok=False, kind="escaped", type=type(err).__name__, message=str(err)[:500])
        out["elapsed"] = time.monotonic() - started
        out["cpu"] = time.thread_time() - cpu_started  # an expression runs in this thread, on its CPU-time deadline
        with heartbeat.lock:
            out["max_stall"] = max(heartbeat.max_gap, time.monotonic() - heartbeat.last)
        out["rss_mb"] = _rss_mb() - baseline
        out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - baseline
        print(json.dumps(out), flush=True)
    shutdown_workers()


if __name__ == "__main__":
    main()
