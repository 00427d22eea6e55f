"""Sandboxed script environment for SpiffWorkflow.

Scripts and expressions in uploaded BPMN/DMN are hostile: anyone with the designer role can
upload them. ``SandboxEnvironment`` replaces SpiffWorkflow's ``TaskDataEnvironment`` (plain
``eval``/``exec``)::

    engine = PythonScriptEngine(environment=SandboxEnvironment(globals={"manager_of": manager_of}))

Everything is compiled with RestrictedPython's ``compile_restricted`` under the policy in
``engine.script_worker`` (no imports, no ``_`` names or attributes, no ``open``/``eval``/...,
guarded attribute access, iteration, ``*``/``**``/``+``/``<<``/``%``, format widths, ``range``...).

* **Expressions** (gateway conditions, timers, assignments, DMN cells) are on the hot path and run
  in-process. Their guards enforce a wall-clock deadline (``expression_timeout``, helper calls
  included), a size cap on every list, string, bytes, range, text or integer built
  (``max_sequence``), a cost cap on each big-integer operation, a total work cap (``max_sequence``
  loop iterations plus items built) and a cap on resident-memory growth (``memory_bytes``), so an
  expression cannot loop forever, build a huge value or hold the GIL for long.
* **Script tasks** run in a small pool of pre-started worker processes (lazily started,
  thread-safe, reused; a worker is killed and replaced when a script times out, crashes or runs
  out of memory). Workers start with a stripped environment (``worker_environment``): no server
  secret reaches them. The worker limits its own address space (``RLIMIT_AS`` = ``memory_bytes``) and
  CPU time, compiles with the same guards, receives the script and the task data as JSON and
  returns the changed variables as JSON, in length-prefixed frames. Nothing from a worker is ever
  unpickled. Callables in the environment globals or ``external_context`` are exposed to scripts
  as proxies: a call sends JSON arguments back to this process, which runs the real function and
  returns its JSON result. Other non-JSON values are not available to scripts.

All failures surface as ``ScriptError``. Ordinary Python errors raised by user code (NameError,
KeyError, ZeroDivisionError...) are raised as ``ScriptError`` subclasses that also derive from the
original builtin type and keep its name, so SpiffWorkflow reports e.g. "NameError:name 'x' is not
defined" with its "did you mean" hint, and with the line number of the failing script line.
"""

from __future__ import annotations

import ast
import atexit
import functools
import json
import os
import select
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, NoReturn

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import script_worker
from .script_worker import (
    FILENAME,
    MAX_FRAME_BYTES,
    Budget,
    SandboxStop,
    check_source,
    compile_sandboxed,
    encode_frame,
    json_problem,
    make_globals,
    safe_text,
)

__all__ = ["ScriptError", "ScriptLimits", "SandboxEnvironment", "SandboxScriptEngine", "check_expression",
           "check_script", "shutdown_workers"]

WORKER_GRACE = 0.5  # seconds the parent waits beyond script_timeout before killing a worker
WORKER_START_TIMEOUT = 15.0
POOL_SIZE = max(2, min(4, os.cpu_count() or 1))


class ScriptError(Exception):
    """A script or expression was refused or failed; str(err) is a clear, user-facing message.

    ``kind`` says why a run was stopped: "time" (the deadline), "memory", "size" (one operation
    would build too large a value or take too long at once), "work" (too many steps in total),
    "refused" (something the sandbox does not allow) or None (an ordinary error of the code)."""

    line_number: int | None = None
    kind: str | None = None


def _stopped(err: SandboxStop) -> ScriptError:
    new = ScriptError(str(err))
    new.kind = err.kind
    return new


@dataclass(frozen=True)
class ScriptLimits:
    """Limits applied to every script and expression run by a SandboxEnvironment."""

    script_timeout: float = 2.0      # seconds for a script task
    expression_timeout: float = 0.5  # seconds for one expression (conditions, timers, assignment, DMN)
    memory_bytes: int = 256 * 1024 * 1024  # a script worker's address space; what an expression may add to RSS
    max_sequence: int = 1_000_000    # largest list/str/range an expression may build


def check_expression(source: str) -> str | None:
    """Deploy-time check: None if the expression compiles under the sandbox rules, else a message
    (syntax error with line, use of underscore names/attributes, import, etc.)."""
    return check_source(source, "eval")


def check_script(source: str) -> str | None:
    """Same as check_expression for a script task body (statements)."""
    return check_source(source, "exec")


# --------------------------------------------------------------------------- errors

_PASSED_THROUGH = {
    cls.__name__: cls for cls in (
        ArithmeticError, AssertionError, AttributeError, Exception, IndexError, KeyError, LookupError,
        NameError, OverflowError, RecursionError, RuntimeError, StopIteration, SyntaxError, TypeError,
        UnboundLocalError, UnicodeError, ValueError, ZeroDivisionError,
    )
}


@functools.cache
def _error_class(base: type[BaseException]) -> type[ScriptError]:
    """A ScriptError subclass that is also ``base`` and is named like it."""
    if base is Exception:
        return ScriptError
    return type(base.__name__, (ScriptError, base), {"__module__": __name__, "__qualname__": base.__name__})


def _as_script_error(err: BaseException) -> ScriptError:
    if isinstance(err, ScriptError):
        return err
    base = _PASSED_THROUGH.get(type(err).__name__)
    if base is not type(err):
        new = ScriptError(f"{type(err).__name__}: {safe_text(err)}")
        return new
    # arguments may be huge or deeply shared values built by hostile code (e.g. a KeyError's key)
    args = [a if isinstance(a, int | float | bool | None) else safe_text(a) for a in err.args[:3]]
    new = _error_class(base)(*args)
    for attr in ("name", "obj", "lineno", "offset", "text"):
        if hasattr(err, attr):
            try:
                setattr(new, attr, getattr(err, attr))
            except (AttributeError, TypeError):
                pass
    return new


def _raise_at_line(err: BaseException, line: int | None) -> NoReturn:
    """Raise ``err`` from a frame named '<string>' at ``line``, where SpiffWorkflow's
    PythonScriptEngine.get_error_line_number_and_content looks for the failing script line."""
    if line and line > 0:
        code = compile("\n" * (line - 1) + "raise error_to_raise", FILENAME, "exec")  # trusted constant
        exec(code, {"error_to_raise": err})  # noqa: S102
    raise err


_STOP_KINDS = frozenset({"time", "memory", "size", "work", "refused", "limit"})


def _reply_error(error: dict[str, Any], limits: ScriptLimits) -> ScriptError:
    kind = error.get("kind")
    args = [str(a) for a in error.get("args") or []]
    line = error.get("line")
    line = line if isinstance(line, int) else None
    if kind == "memory":
        mb = limits.memory_bytes / (1024 * 1024)
        err = ScriptError(f"Script exceeded the memory limit of {mb:g} MB")
        err.kind = "memory"
    elif kind in _STOP_KINDS or kind == "data":
        err = ScriptError(args[0] if args else "Script refused")
        err.kind = kind if kind in _STOP_KINDS else None
    else:
        base = _PASSED_THROUGH.get(str(error.get("type")), Exception)
        err = _error_class(base)(*args)
    if line is not None:
        err.line_number = line
        if kind in _STOP_KINDS:
            err.args = (f"{err.args[0]} (line {line})",)
    return err


# --------------------------------------------------------------------------- worker pool


class _WorkerTimeout(Exception):
    pass


class _WorkerGone(Exception):
    pass


_BOOT = (
    "import runpy, sys; sys.path[1:1] = sys.argv[2:]; "
    "runpy.run_path(sys.argv[1], run_name='__main__')"
)


def worker_environment() -> dict[str, str]:
    """The environment a script worker starts with: nothing of the server's (no OAFLOW_* secrets,
    no database URL), only a search path and a UTF-8 locale. ``-I`` ignores PYTHON* variables and the
    module search path comes on the command line, so nothing else is needed."""
    return {"PATH": os.defpath, "LANG": "C.UTF-8"}


class _Worker:
    """One worker process, talked to in length-prefixed JSON frames."""

    def __init__(self) -> None:
        paths = [p for p in sys.path if p and os.path.isdir(p)]
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-I", "-c", _BOOT, script_worker.__file__, *paths],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            close_fds=True, start_new_session=True, env=worker_environment(),
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.to_fd = self.proc.stdin.fileno()
        self.from_fd = self.proc.stdout.fileno()
        try:
            ready = self.receive(time.monotonic() + WORKER_START_TIMEOUT)
        except (_WorkerTimeout, _WorkerGone):
            self.kill()
            raise ScriptError("The script worker process could not be started") from None
        if ready != {"ready": True}:
            self.kill()
            raise ScriptError("The script worker process could not be started")

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, message: Any) -> None:
        data = message if isinstance(message, bytes) else encode_frame(message)
        try:
            while data:
                data = data[os.write(self.to_fd, data):]
        except OSError as err:
            raise _WorkerGone() from err

    def _read(self, n: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        while n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _WorkerTimeout()
            ready, _, _ = select.select([self.from_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self.from_fd, min(n, 1 << 20))
            if not chunk:
                raise _WorkerGone()
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def receive(self, deadline: float) -> Any:
        (size,) = struct.unpack(">I", self._read(4, deadline))
        if size > MAX_FRAME_BYTES:
            raise ScriptError(f"The script result is too large (more than {MAX_FRAME_BYTES // 2**20} MB)")
        body = self._read(size, deadline)
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as err:
            raise _WorkerGone() from err

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass


class _WorkerPool:
    """A small, lazily started, thread-safe pool of worker processes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._starting = 0
        self._generation = 0
        self._pid = os.getpid()

    def _acquire(self) -> tuple[_Worker, int]:
        with self._cond:
            self._check_fork()
            while True:
                if self._idle:
                    worker = self._idle.pop()
                    self._busy.add(worker)
                    return worker, self._generation
                if len(self._busy) + self._starting < self.size:
                    self._starting += 1
                    generation = self._generation
                    break
                self._cond.wait()
        try:
            worker = _Worker()
        finally:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
        with self._cond:
            self._busy.add(worker)
        return worker, generation

    def _release(self, worker: _Worker, generation: int, healthy: bool) -> None:
        with self._cond:
            self._busy.discard(worker)
            keep = healthy and generation == self._generation and worker.alive
            if keep:
                self._idle.append(worker)
            self._cond.notify()
        if not keep:
            worker.kill()

    def _check_fork(self) -> None:
        if self._pid != os.getpid():  # forked (e.g. gunicorn --preload): the workers belong to the parent
            self._idle, self._busy, self._starting = [], set(), 0
            self._generation += 1
            self._pid = os.getpid()

    def after_fork_in_child(self) -> None:
        """Forget the parent's workers (without killing them) and any lock state copied by fork."""
        self._cond = threading.Condition()
        self._check_fork()

    def shutdown(self) -> None:
        with self._cond:
            self._check_fork()
            idle, self._idle = self._idle, []
            self._generation += 1  # busy workers are killed when released
            self._cond.notify_all()
        for worker in idle:
            worker.kill()

    def run(self, request: dict[str, Any], functions: dict[str, Any], limits: ScriptLimits) -> dict[str, Any]:
        """Send one request to a worker and return its final reply, serving runtime function calls."""
        frame = encode_frame(request)
        if len(frame) > MAX_FRAME_BYTES:
            raise ScriptError(f"The task data is too large to run a script on (more than "
                              f"{MAX_FRAME_BYTES // 2**20} MB as JSON)")
        for attempt in range(2):
            worker, generation = self._acquire()
            healthy = False
            try:
                try:
                    worker.send(frame)
                except _WorkerGone:
                    if attempt == 0:
                        continue  # an idle worker died (e.g. killed from outside): try a fresh one
                    raise ScriptError("The script worker process stopped unexpectedly") from None
                deadline = time.monotonic() + limits.script_timeout + WORKER_GRACE
                while True:
                    reply = worker.receive(deadline)
                    if isinstance(reply, dict) and "call" in reply:
                        # runtime functions run inside the script's wall-clock deadline
                        worker.send(_serve_call(functions, reply))
                        continue
                    if not isinstance(reply, dict) or "ok" not in reply:
                        raise ScriptError("The script worker sent an invalid reply")
                    error = reply.get("error")
                    healthy = not (isinstance(error, dict) and error.get("kind") == "memory")
                    return reply
            except _WorkerTimeout:
                timed_out = ScriptError(f"Script exceeded the time limit of {limits.script_timeout:g}s")
                timed_out.kind = "time"
                raise timed_out from None
            except _WorkerGone:
                gone = ScriptError(
                    "The script stopped the worker process (it probably exceeded the memory limit of "
                    f"{limits.memory_bytes / 2**20:g} MB or the CPU limit)")
                gone.kind = "memory"
                raise gone from None
            finally:
                self._release(worker, generation, healthy)
        raise ScriptError("The script worker process stopped unexpectedly")  # pragma: no cover


def _serve_call(functions: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """Run a runtime function a script called through its worker-side proxy."""
    name = message.get("call")
    func = functions.get(name) if isinstance(name, str) else None
    args, kwargs = message.get("args"), message.get("kwargs")
    if func is None or not isinstance(args, list) or not isinstance(kwargs, dict):
        return {"error": f"{name}() is not available"}
    try:
        result = func(*args, **kwargs)
    except Exception as err:
        return {"error": f"{name}() failed: {type(err).__name__}: {err}"}
    problem = json_problem(result, f"the result of {name}()")
    if problem:
        return {"error": f"{problem}, so it cannot be returned to a script task"}
    return {"result": result}


_POOL = _WorkerPool(POOL_SIZE)


def shutdown_workers() -> None:
    """Stop any pre-started worker processes (called at app teardown / test end)."""
    _POOL.shutdown()


atexit.register(shutdown_workers)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_POOL.after_fork_in_child)


# --------------------------------------------------------------------------- environment


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment that runs expressions and scripts in the sandbox.

    ``globals``: names (typically helper functions) visible to every expression and script.
    ``call_service`` is left to subclasses (the runtime routes service tasks to its registry).
    """

    def __init__(self, globals: dict[str, Any] | None = None, limits: ScriptLimits | None = None) -> None:
        super().__init__(globals)
        self.limits = limits or ScriptLimits()

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: dict[str, Any] | None = None) -> Any:
        """Evaluate an expression in-process with the task data as variables; return its value."""
        try:
            code = compile_sandboxed(expression, "eval")
        except SandboxStop as err:
            refused = ScriptError(f"Expression refused: {err}")
            refused.kind = "refused"
            raise refused from None
        limits = self.limits
        budget = Budget("Expression", limits.expression_timeout, limits.max_sequence, limits.max_sequence,
                        memory_growth=limits.memory_bytes)
        scope = _timed_functions(self.globals, budget)
        if external_context:
            scope.update(_timed_functions(external_context, budget))
        scope.update(context)
        scope.update(make_globals(budget))  # last, so task data can never replace a guard
        try:
            result = eval(code, scope)  # noqa: S307 - compiled with compile_restricted and guards
            if not isinstance(result, _PLAIN_RESULTS):
                budget.check_text(result)  # callers log and store results as text
            return result
        except SandboxStop as err:
            raise _stopped(err) from None
        except MemoryError:
            err = ScriptError("Expression exceeded the available memory")
            err.kind = "memory"
            raise err from None
        except Exception as err:
            raise _as_script_error(err).with_traceback(err.__traceback__) from None

    def execute(self, script: str, context: dict[str, Any],
                external_context: dict[str, Any] | None = None) -> bool:
        """Run a script task body in a worker process; write changed variables back into ``context``
        (the task data) and remove the ones the script deleted."""
        external_context = external_context or {}
        overwrites = (set(self.globals) | set(external_context)) & set(context)
        if overwrites:
            raise ScriptError(
                "You have task data that overwrites a predefined function(s). Please change the "
                f"following variable or field name(s) to something else: {sorted(overwrites)}")
        try:
            compile_sandboxed(script, "exec")
        except SandboxStop as err:
            refused = ScriptError(f"Script refused: {err}")
            refused.kind = "refused"
            raise refused from None
        for key, value in context.items():
            problem = json_problem(value, f"task data variable {key!r}")
            if problem:
                raise ScriptError(f"Cannot run the script: {problem}.")
        constants = literal_assignments(script, set(self.globals) | set(external_context))
        if constants is not None:  # nothing to evaluate, so nothing to sandbox: no worker round trip
            context.update(constants)
            return True
        values: dict[str, Any] = {}
        functions: dict[str, Any] = {}
        for source in (self.globals, external_context):
            for name, value in source.items():
                if not isinstance(name, str) or name.startswith("_"):
                    continue
                if callable(value):
                    functions[name] = value
                    values.pop(name, None)
                elif json_problem(value, name) is None:
                    values[name] = value
                    functions.pop(name, None)
        request = {
            "script": script,
            "data": context,
            "values": values,
            "functions": sorted(functions),
            "limits": {
                "script_timeout": self.limits.script_timeout,
                "memory_bytes": self.limits.memory_bytes,
                "max_sequence": self.limits.max_sequence,
            },
        }
        reply = _POOL.run(request, functions, self.limits)
        if not reply.get("ok"):
            error = reply.get("error")
            err = _reply_error(error if isinstance(error, dict) else {}, self.limits)
            _raise_at_line(err, err.line_number)
        changed, deleted = reply.get("changed"), reply.get("deleted")
        if not isinstance(changed, dict) or not isinstance(deleted, list):
            raise ScriptError("The script worker sent an invalid reply")
        for key in deleted:
            context.pop(key, None)
        context.update(changed)
        return True


_LITERALS = (str, int, float, bool, type(None))
_PLAIN_RESULTS = (str, int, float, bool, type(None))


def _timed_functions(names: dict[str, Any], budget: Budget) -> dict[str, Any]:
    """``names`` with each callable wrapped so that the time it takes counts against the deadline:
    the budget is checked as soon as the helper returns (a helper itself cannot be interrupted)."""
    scope = dict(names)
    for name, value in names.items():
        if callable(value) and not isinstance(value, type):
            scope[name] = _timed(value, budget)
    return scope


def _timed(func: Any, budget: Budget) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        result = func(*args, **kwargs)
        budget.charge(1)
        return result
    return timed


def literal_assignments(script: str, reserved: set[str]) -> dict[str, Any] | None:
    """The variables a script sets if it is nothing but `name = <literal>` lines (like `outcome = "approved"`),
    else None. Such a script evaluates no code at all, so it needs no sandbox process."""
    try:
        tree = ast.parse(script, mode="exec")
    except (SyntaxError, ValueError):
        return None
    found: dict[str, Any] = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            return None
        name, value = node.targets[0].id, node.value
        negative = isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub)
        if negative:
            value = value.operand
        literal = isinstance(value, ast.Constant) and isinstance(value.value, _LITERALS)
        if negative:
            literal = literal and isinstance(value.value, int | float) and not isinstance(value.value, bool)
        if name.startswith("_") or name in reserved or not literal:
            return None
        found[name] = -value.value if negative else value.value
    return found or None


class SandboxScriptEngine(PythonScriptEngine):
    """Optional PythonScriptEngine whose expression errors include the sandbox's message.

    SpiffWorkflow's ``PythonScriptEngine.evaluate`` reports any expression failure as just
    "Error evaluating expression '...'" (the cause is only in ``__context__``); this subclass appends
    ``str(err)``, e.g. "...: Expression exceeded the time limit of 0.5s". Script tasks are unchanged.
    """

    def __init__(self, environment: SandboxEnvironment | None = None) -> None:
        super().__init__(environment=environment or SandboxEnvironment())

    def evaluate(self, task: Any, expression: str, external_context: dict[str, Any] | None = None) -> Any:
        """Evaluate ``expression`` against ``task.data``; failures become WorkflowTaskException."""
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as err:
            err.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as err:
            raise WorkflowTaskException(f"Error evaluating expression '{expression}': {err}",
                                        task=task, exception=err) from err
