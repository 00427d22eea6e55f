"""Sandboxed script environment for SpiffWorkflow.

Scripts and expressions in uploaded BPMN/DMN are hostile: anyone with the designer role can
upload them. ``SandboxEnvironment`` replaces SpiffWorkflow's ``TaskDataEnvironment`` (plain
``eval``/``exec``)::

    engine = PythonScriptEngine(environment=SandboxEnvironment(globals={"manager_of": manager_of}))

Everything is compiled with RestrictedPython's ``compile_restricted`` under the policy in
``engine.sandbox.policy`` (no imports, no ``_`` names or attributes, no ``open``/``eval``/...,
guarded attribute access, iteration, ``*``/``**``/``+``/``<<``/``%``, format widths, ``range``...).

* **Expressions** (gateway conditions, timers, assignments, DMN cells) are on the hot path and run
  in-process. Their guards enforce a deadline in the thread's CPU time (``expression_timeout``;
  garbage collection and org-chart helper calls have their own allowance), a size cap on every list,
  string, bytes, range, text or integer built (``max_sequence``), a cost cap on each big-integer
  operation, a total work cap (``max_sequence`` loop iterations plus items built) and a cap on
  resident-memory growth (``memory_bytes``), so an expression
  cannot loop forever, build a huge value or hold the GIL for long.
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

This module is the stable facade: the implementation lives in the ``engine.sandbox`` package
(limits, policy, meter/weight/numbers/text/budget guards, scope, protocol, worker, pool, errors,
environment), one job per module.
"""

from __future__ import annotations

from .sandbox.environment import (
           SandboxEnvironment,
           SandboxScriptEngine,
           check_expression,
           check_script,
           literal_assignments,
)
from .sandbox.errors import ScriptError
from .sandbox.limits import ScriptLimits
from .sandbox.pool import _POOL, _Worker, shutdown_workers, worker_environment

__all__ = ["ScriptError", "ScriptLimits", "SandboxEnvironment", "SandboxScriptEngine", "check_expression",
           "check_script", "literal_assignments", "shutdown_workers", "worker_environment", "_POOL", "_Worker"]
