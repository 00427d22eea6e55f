"""``ScriptError`` and how the sandbox's failures become one: guard stops, ordinary Python errors of
user code (kept as subclasses of the original builtin type) and error replies of a worker."""

from __future__ import annotations

import functools
from typing import Any, NoReturn

from .limits import FILENAME, SandboxStop, ScriptLimits
from .protocol import safe_text


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

