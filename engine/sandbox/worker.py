"""The script worker process: runs script tasks sent as JSON frames on stdin, under the sandbox's
guards, its own address-space and CPU limits, and replies with the changed variables.

Started by ``engine.sandbox.pool`` with ``python -I`` as ``python -m engine.sandbox.worker``; it
imports nothing from oaflow outside this package, so only the standard library and RestrictedPython
are loaded here."""

from __future__ import annotations

import json
import os
import sys
import types
from collections.abc import Callable
from typing import Any

from engine.sandbox.budget import Budget
from engine.sandbox.limits import FILENAME, WORKER_GRACE, SandboxStop
from engine.sandbox.policy import compile_sandboxed
from engine.sandbox.protocol import _write_all, encode_frame, json_problem, read_frame, safe_text, write_frame
from engine.sandbox.scope import GUARD_NAMES, make_globals

_REPORTED_ERRORS = frozenset({
    "ArithmeticError", "AssertionError", "AttributeError", "Exception", "IndexError", "KeyError",
    "LookupError", "NameError", "OverflowError", "RecursionError", "RuntimeError", "StopIteration",
    "TypeError", "UnboundLocalError", "ValueError", "ZeroDivisionError", "UnicodeError",
})


def _error_line(tb: types.TracebackType | None) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _set_limits(memory_bytes: int, timeout: float) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    # CPU backstop: the parent kills us on timeout; this catches the case where it cannot.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime)
    _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
    cpu_soft = used + int(timeout) + 5
    if cpu_hard == resource.RLIM_INFINITY or cpu_soft <= cpu_hard:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_soft, cpu_hard))


RemoteCall = Callable[[str, list[Any], dict[str, Any]], Any]


def run_script(request: dict[str, Any], call: RemoteCall) -> dict[str, Any]:
    """Run one script request (worker side) and build the reply.

    ``request``: ``script``, ``data`` (task data), ``values`` (JSON-able globals and external
    context), ``functions`` (names of runtime callables, reached through ``call``), ``limits``.
    Reply: ``{"ok": True, "changed": {...}, "deleted": [...]}`` or ``{"ok": False, "error": {...}}``.
    """
    limits = request["limits"]
    # CPU time, as every deadline here counts it (a busy machine does not fail an honest script), capped on the
    # wall clock half a grace before the parent's kill, so a starved worker still stops itself and names the line
    timeout = float(limits["script_timeout"])
    budget = Budget("Script", timeout, int(limits["max_sequence"]), None, wall_limit=timeout + WORKER_GRACE / 2)
    try:
        code = compile_sandboxed(request["script"], "exec")
    except SandboxStop as err:
        return {"ok": False, "error": {"kind": err.kind, "type": "ScriptError", "args": [str(err)]}}
    data: dict[str, Any] = request["data"]
    originals = {key: json.dumps(value, sort_keys=True) for key, value in data.items()}
    provided = set(request["values"]) | set(request["functions"])

    def stub(name: str) -> Callable[..., Any]:
        def remote(*args: Any, **kwargs: Any) -> Any:
            problem = json_problem(list(args), "argument") or json_problem(kwargs, "argument")
            if problem:
                raise TypeError(f"{name}(): {problem}")
            result = call(name, list(args), kwargs)
            budget.charge(1)  # the time spent in runtime functions counts against the deadline
            return result
        remote.__name__ = name
        return remote

    scope: dict[str, Any] = dict(request["values"])
    scope.update({name: stub(name) for name in request["functions"]})
    scope.update(data)
    scope.update(make_globals(budget))  # last, so data can never replace a guard
    _set_limits(int(limits["memory_bytes"]), float(limits["script_timeout"]))
    try:
        exec(code, scope)  # noqa: S102 - compiled with compile_restricted under SandboxTransformer
        return _collect(scope, data, originals, provided, budget)
    except SandboxStop as err:
        return {"ok": False, "error": {"kind": err.kind, "type": "ScriptError", "args": [str(err)],
                                        "line": _error_line(err.__traceback__)}}
    except MemoryError as err:
        return {"ok": False, "error": {"kind": "memory", "type": "MemoryError", "args": [],
                                        "line": _error_line(err.__traceback__)}}
    except Exception as err:
        name = type(err).__name__ if type(err).__name__ in _REPORTED_ERRORS else "Exception"
        args = ([safe_text(a) for a in err.args[:3]] if name != "Exception"
                else [f"{type(err).__name__}: {safe_text(err)}"])
        return {"ok": False, "error": {"kind": "error", "type": name, "args": args,
                                        "line": _error_line(err.__traceback__)}}


def _collect(scope: dict[str, Any], data: dict[str, Any], originals: dict[str, str],
             provided: set[str], budget: Budget) -> dict[str, Any]:
    """The reply to a script run: the task data variables it changed (weighed, then checked to be
    JSON) and the ones it deleted."""
    changed: dict[str, Any] = {}
    for key, value in scope.items():
        if key in GUARD_NAMES or key in provided and key not in data:
            continue
        if key not in data and (key.startswith("_") or callable(value)
                                or isinstance(value, types.ModuleType)):
            continue
        budget.weighed(value)  # serialising a value with shared parts repeats them
        problem = json_problem(value, f"variable {key!r}")
        if problem:
            return {"ok": False, "error": {"kind": "data", "type": "ScriptError",
                                            "args": [f"Cannot store the script's variables: {problem}."]}}
        encoded = json.dumps(value, sort_keys=True)
        if originals.get(key) != encoded:
            changed[key] = value
    deleted = [key for key in data if key not in scope]
    return {"ok": True, "changed": changed, "deleted": deleted}


def main() -> None:
    """Worker loop: read a request frame, run it, write the reply; exit at end of input."""
    in_fd, out_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    sys.stdin = sys.stdout = open(os.devnull, "r+")  # noqa: SIM115
    _write_all(out_fd, encode_frame({"ready": True}))

    def call(name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        write_frame(out_fd, {"call": name, "args": args, "kwargs": kwargs})
        reply = read_frame(in_fd)
        if reply is None:
            raise SystemExit(0)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply.get("result")

    while True:
        request = read_frame(in_fd)
        if request is None:
            return
        try:
            reply = run_script(request, call)
        except MemoryError:
            reply = {"ok": False, "error": {"kind": "memory", "type": "MemoryError", "args": []}}
        try:
            frame = encode_frame(reply)
        except (TypeError, ValueError, RecursionError, MemoryError) as err:
            frame = encode_frame({"ok": False, "error": {"kind": "data", "type": "ScriptError",
                                                         "args": [f"The script result is not JSON: {err}"]}})
        _write_all(out_fd, frame)



if __name__ == "__main__":
    main()
