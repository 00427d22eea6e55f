"""The pool of pre-started script worker processes (lazily started, thread-safe, reused; a worker
is killed and replaced when a script times out, crashes or runs out of memory), and the parent's side
of the worker protocol, including runtime function calls made by scripts."""

from __future__ import annotations

import atexit
import json
import os
import select
import struct
import subprocess
import sys
import threading
import time
from typing import Any

from .errors import ScriptError
from .limits import MAX_FRAME_BYTES, WORKER_GRACE, ScriptLimits
from .protocol import encode_frame, json_problem

WORKER_START_TIMEOUT = 15.0
POOL_SIZE = max(2, min(4, os.cpu_count() or 1))

class _WorkerTimeout(Exception):
    pass


class _WorkerGone(Exception):
    pass


_BOOT = (
    "import runpy, sys; sys.path[1:1] = sys.argv[1:]; "
    "runpy.run_module('engine.sandbox.worker', run_name='__main__', alter_sys=True)"
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
            [sys.executable, "-I", "-c", _BOOT, *paths],
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

