"""Sandbox limits: the constants every guard uses, the per-run ``ScriptLimits`` and the exceptions
(``SandboxStop`` and its kinds) a guard raises when a limit is hit or an operation is refused.

Imported by the worker process too, so it needs nothing but the standard library and RestrictedPython."""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import date, timedelta

from RestrictedPython.transformer import INSPECT_ATTRIBUTES

WORKER_GRACE = 0.5  # seconds a script worker's parent waits beyond script_timeout before killing it

FILENAME = "<string>"  # SpiffWorkflow looks for frames with this filename to find error lines
MAX_SOURCE_CHARS = 100_000
MAX_INT_BITS = 100_000  # about 30,000 decimal digits
# Largest cost of one quadratic integer operation (division, modulo, modular pow), in products of
# 30-bit digits: about 10 ms on a slow core, so no single C-level operation outlives a deadline.
MAX_INT_COST = 4_000_000
MAX_TEXT_WEIGHT_DEPTH = 100
MAX_ROUND_DIGITS = 1_000
MAX_FRAME_BYTES = 64 * 1024 * 1024

# Calls refused at compile time (data variables with these names may still be read).
FORBIDDEN_CALLS = frozenset({
    "open", "eval", "exec", "compile", "globals", "locals", "vars", "dir", "breakpoint", "input",
    "setattr", "delattr", "memoryview", "exit", "quit", "help", "type", "object", "super",
    "bytes", "bytearray",
})
# Attributes refused at run time on any object (besides names starting with "_").
BLOCKED_ATTRIBUTES = frozenset(INSPECT_ATTRIBUTES) | {
    "mro", "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "cr_origin",
    "ag_frame", "ag_code", "ag_await", "f_back", "f_globals", "f_locals", "f_builtins", "f_code",
    "tb_frame", "tb_next", "translate", "maketrans",
    "mapping",  # a dict view's mappingproxy: compared or printed in C without being weighed
}
BLOCKED_TYPES = (types.ModuleType, types.FrameType, types.CodeType, types.TracebackType)
SEQUENCE_TYPES = (str, bytes, list, tuple)
CONTAINERS = (list, tuple, dict, set, frozenset)
SCALARS = (str, bytes, int, float, bool, type(None), date, timedelta)
NUMBER_TYPES = (int, float)


@dataclass(frozen=True)
class ScriptLimits:
    """Limits applied to every script and expression run by a SandboxEnvironment."""

    script_timeout: float = 2.0      # seconds for a script task
    expression_timeout: float = 0.5  # seconds for one expression (conditions, timers, assignment, DMN)
    memory_bytes: int = 256 * 1024 * 1024  # a script worker's address space; what an expression may add to RSS
    max_sequence: int = 1_000_000    # largest list/str/range (and weight of a nested value) an expression may build


class SandboxStop(BaseException):  # noqa: N818 - BaseException so `except Exception:` cannot swallow it
    """Raised by the guards. Subclasses BaseException so hostile code cannot catch it with
    ``except Exception``; once raised, every later guard call raises again (see Budget)."""

    kind = "refused"


class SandboxViolation(SandboxStop):  # noqa: N818
    """An operation the sandbox does not allow."""

    kind = "refused"


class LimitExceeded(SandboxStop):  # noqa: N818
    """A time, size or work limit was hit."""

    kind = "limit"


class TimeLimitExceeded(LimitExceeded):  # noqa: N818
    """The time limit passed (CPU time of the running thread; the parent's wall clock for a script worker)."""

    kind = "time"


class SizeLimitExceeded(LimitExceeded):  # noqa: N818
    """One operation would build too large a value or cost too much at once."""

    kind = "size"


class WorkLimitExceeded(LimitExceeded):  # noqa: N818
    """Too many loop iterations plus items built in total (in-process expressions)."""

    kind = "work"


class MemoryLimitExceeded(LimitExceeded):  # noqa: N818
    """An in-process run made the process's resident memory grow too much."""

    kind = "memory"

