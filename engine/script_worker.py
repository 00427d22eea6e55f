"""Sandbox core shared by the in-process expression evaluator and the script worker process.

This module deliberately imports nothing from oaflow: it is also run as the main program of the
pre-started worker processes (see ``engine.scripting``), started with ``python -I`` so that only
the standard library and RestrictedPython are loaded there.

What is here:

* ``SandboxTransformer``: a RestrictedPython policy that, on top of RestrictedPython's own rules
  (no imports, no names or attributes starting with ``_``, attribute access through
  ``_getattr_``, iteration through ``_getiter_`` ...), rewrites ``*``, ``**``, ``+``, ``<<``,
  ``%`` and ``//`` into guarded calls, puts a deadline/work "tick" into every ``while`` loop,
  function and lambda, routes every f-string value through ``_format_``, refuses classes and
  calls to ``open``/``eval``/``bytes``/..., and allows augmented assignment to subscripts (``data["n"] += 1``).
* ``Budget``: the per-run guards bound to a wall-clock deadline (checked on every guard call, and
  including the time of helper functions), a cap on the size of any sequence, text or integer
  built, a cap on the cost of one big-integer division/modulo/modular power (a C-level call that
  cannot be interrupted and holds the GIL), and for in-process expressions a cap on the total work
  done and on the growth of the process's resident memory. Guards handed to sandboxed code are
  bound methods or closures, never objects with public attributes leading back to the Budget.
* ``make_globals``: the globals of one run: safe builtins plus the guards.
* The worker protocol: length-prefixed JSON frames over stdin/stdout. The parent never unpickles
  anything: the worker ran hostile code.
"""

from __future__ import annotations

import ast
import functools
import json
import math
import operator
import os
import re
import reprlib
import struct
import sys
import time
import types
import warnings
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

from RestrictedPython import compile_restricted
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer, copy_locations

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
}
BLOCKED_TYPES = (types.ModuleType, types.FrameType, types.CodeType, types.TracebackType)
SEQUENCE_TYPES = (str, bytes, list, tuple)
_CONTAINERS = (list, tuple, dict, set, frozenset)
_SCALARS = (str, bytes, int, float, bool, type(None), date, timedelta)
NUMBER_TYPES = (int, float)


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
    """The wall-clock deadline passed."""

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


# --------------------------------------------------------------------------- compile


def _call(name: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    node = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    copy_locations(node, like)
    return node


_BINOP_GUARDS = {ast.Mult: "_mul_", ast.Pow: "_pow_", ast.Add: "_add_", ast.LShift: "_lshift_",
                 ast.Mod: "_mod_", ast.FloorDiv: "_floordiv_"}
_IOP = {ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/=", ast.FloorDiv: "//=", ast.Mod: "%=",
        ast.Pow: "**=", ast.LShift: "<<=", ast.RShift: ">>=", ast.BitOr: "|=", ast.BitAnd: "&=",
        ast.BitXor: "^=", ast.MatMult: "@="}


class SandboxTransformer(RestrictingNodeTransformer):
    """RestrictedPython policy plus size/time guards (see module docstring)."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        if guard is None:
            return node
        return _call(guard, [node.left, node.right], node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            self.error(node, f"{node.func.id}() is not allowed in scripts or expressions.")
        return super().visit_Call(node)

    def visit_Import(self, node: ast.Import) -> ast.AST:
        self.error(node, "Imports are not allowed.")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        self.error(node, "Imports are not allowed.")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self.error(node, "Class definitions are not allowed.")
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        node = self.node_contents_visit(node)
        tick = ast.Expr(_call("_tick_", [], node))
        copy_locations(tick, node)
        node.body.insert(0, tick)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node = super().visit_FunctionDef(node)
        tick = ast.Expr(_call("_tick_", [], node))
        copy_locations(tick, node)
        node.body.insert(0, tick)
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        node = super().visit_Lambda(node)
        node.body = ast.BoolOp(op=ast.Or(), values=[_call("_tick_", [], node.body), node.body])
        copy_locations(node.body, node.body.values[1])
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        node = self.node_contents_visit(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        value = _call("_format_", [node.value, spec, ast.Constant(node.conversion)], node)
        new = ast.FormattedValue(value=value, conversion=-1, format_spec=None)
        copy_locations(new, node)
        return new

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST | list[ast.AST]:
        if not isinstance(node.target, ast.Subscript):
            return super().visit_AugAssign(node)
        # data[key] += value  ->  _tmpA = data; _tmpB = key;
        #                         _write_(_tmpA)[_tmpB] = _inplacevar_("+=", _getitem_(_tmpA, _tmpB), value)
        obj = self.visit(node.target.value)
        key = self.visit(node.target.slice)
        value = self.visit(node.value)
        obj_name, key_name = self.gen_tmp_name(), self.gen_tmp_name()
        stmts: list[ast.AST] = [
            ast.Assign(targets=[ast.Name(obj_name, ast.Store())], value=obj),
            ast.Assign(targets=[ast.Name(key_name, ast.Store())], value=key),
        ]
        current = _call("_getitem_", [ast.Name(obj_name, ast.Load()), ast.Name(key_name, ast.Load())], node)
        new_value = _call("_inplacevar_", [ast.Constant(_IOP[type(node.op)]), current, value], node)
        target = ast.Subscript(value=_call("_write_", [ast.Name(obj_name, ast.Load())], node),
                               slice=ast.Name(key_name, ast.Load()), ctx=ast.Store())
        stmts.append(ast.Assign(targets=[target], value=new_value))
        for stmt in stmts:
            copy_locations(stmt, node)
        return stmts


@functools.lru_cache(maxsize=4096)
def _compile_cached(source: str, mode: str) -> tuple[types.CodeType | None, str | None]:
    if len(source) > MAX_SOURCE_CHARS:
        return None, f"The code is too long ({len(source):,} characters; the limit is {MAX_SOURCE_CHARS:,})."
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # e.g. "Prints, but never reads 'printed'"
            return compile_restricted(source, FILENAME, mode, policy=SandboxTransformer), None
    except SyntaxError as err:
        if isinstance(err.args[0], tuple | list):  # RestrictedPython's list of refusals
            return None, "; ".join(str(e).rstrip(".") for e in err.args[0]) + "."
        line = f" on line {err.lineno}" if err.lineno else ""
        return None, f"Syntax error{line}: {err.msg}."
    except (RecursionError, MemoryError, ValueError, OverflowError) as err:
        return None, f"The code could not be compiled: {type(err).__name__}: {err}."


def compile_sandboxed(source: str, mode: str) -> types.CodeType:
    """Compile ``source`` ("eval" or "exec") under the sandbox rules; SandboxViolation if refused."""
    if not isinstance(source, str):
        raise SandboxViolation(f"The code must be a string, not {type(source).__name__}.")
    code, error = _compile_cached(source, mode)
    if error is not None:
        raise SandboxViolation(error)
    assert code is not None
    return code


def check_source(source: str, mode: str) -> str | None:
    """None if ``source`` compiles under the sandbox rules, else the reason it does not."""
    if not isinstance(source, str):
        return f"The code must be a string, not {type(source).__name__}."
    return _compile_cached(source, mode)[1]


# --------------------------------------------------------------------------- guards


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _division_cost(a_bits: int, b_bits: int) -> int:
    """Products of 30-bit digits CPython's long division does for an a_bits by b_bits division."""
    return (max(a_bits - b_bits, 0) // 30 + 1) * (b_bits // 30 + 1)


_SPEC_NUMBER = re.compile(r"\d+")
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


class _NoPrint:
    """``print`` in scripts is accepted and discarded (nothing may reach the worker's pipes)."""

    def __init__(self, _getattr_: Any = None) -> None:
        pass

    def _call_print(self, *args: Any, **kwargs: Any) -> None:
        return None

    def __call__(self) -> str:
        return ""


class GuardedType:
    """Stands in for a builtin type (``str``) in sandboxed code: ``isinstance(x, str)`` and
    ``str.upper`` work as usual, but calling it (also from C code, as in ``map(str, items)``) goes
    through the budget's guard. Its state has underscore names, so sandboxed code cannot reach it."""

    __slots__ = ("_guard", "wrapped")

    def __init__(self, wrapped: type, guard: Callable[..., Any]) -> None:
        self.wrapped = wrapped
        self._guard = guard

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._guard(*args, **kwargs)

    def __instancecheck__(self, obj: Any) -> bool:
        return isinstance(obj, self.wrapped)

    def __subclasscheck__(self, cls: Any) -> bool:
        return isinstance(cls, type) and issubclass(cls, self.wrapped)

    def __repr__(self) -> str:
        return repr(self.wrapped)


def _rss_bytes() -> int | None:
    """Resident set size of this process, or None where /proc is not available."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
RSS_CHECK_INTERVAL = 0.002  # seconds between two looks at the resident memory during one run


class Budget:
    """Guards for one run: a deadline, per-operation size caps and an optional total work cap."""

    def __init__(self, what: str, timeout: float, max_sequence: int, work_limit: int | None,
                 memory_growth: int | None = None) -> None:
        self.what = what
        self.timeout = timeout
        self.started = time.monotonic()
        self.deadline = self.started + timeout
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
        now = time.monotonic()  # every call: one C-level step between two calls may be slow
        if now > self.deadline:
            self.stop(TimeLimitExceeded(f"{self.what} exceeded the time limit of {_seconds(self.timeout)}"))
        if self.memory_growth is not None and now >= self.next_memory_check:
            self.check_memory(now)

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

    # -- operators

    def mul(self, a: Any, b: Any) -> Any:
        if _is_int(a) and _is_int(b):
            self.check_bits(a.bit_length() + b.bit_length())
        elif isinstance(a, SEQUENCE_TYPES) and _is_int(b):
            self.check_size(self.repeated_size(a, b))
        elif _is_int(a) and isinstance(b, SEQUENCE_TYPES):
            self.check_size(self.repeated_size(b, a))
        return a * b

    def repeated_size(self, seq: Any, times: int) -> int:
        """Items of ``seq * times`` counted as a tree: repeating a list of lists repeats references
        to the same inner lists, which cost nothing to build but everything to hash, compare or
        copy later (``((('x',) * 1000,) * 1000,) * 1000`` is a billion-leaf tuple)."""
        if times <= 0:
            return 0
        if isinstance(seq, str | bytes):
            return len(seq) * times
        memo: dict[int, int] = {}
        return sum(self._tree_size(item, memo, 0) for item in seq) * times

    def _tree_size(self, value: Any, memo: dict[int, int], depth: int) -> int:
        if not isinstance(value, _CONTAINERS):
            return 1
        key = id(value)
        if key in memo:
            return memo[key]
        self.charge(1)
        if depth > MAX_TEXT_WEIGHT_DEPTH:
            self.stop(SizeLimitExceeded(f"{self.what} tried to repeat a value nested too deeply"))
        children = value.items() if isinstance(value, dict) else value
        size = 1
        for child in children:
            size += (self._tree_size(child[0], memo, depth + 1) + self._tree_size(child[1], memo, depth + 1)
                     if isinstance(value, dict) else self._tree_size(child, memo, depth + 1))
            if size > self.max_sequence:
                break  # already too large: the caller refuses it
        memo[key] = size
        return size

    def pow(self, a: Any, b: Any, mod: Any = None) -> Any:
        if mod is None and _is_int(a) and _is_int(b) and b > 0 and abs(a) > 1:
            per_power = math.log2(abs(a)) if a.bit_length() <= 64 else a.bit_length()
            self.check_bits(int(per_power * b) + 1)
        if mod is None:
            return a ** b
        if _is_int(a) and _is_int(b) and _is_int(mod):
            mod_bits = mod.bit_length()
            self.check_bits(max(a.bit_length(), mod_bits))
            self.check_int_cost(_division_cost(a.bit_length(), mod_bits))
            # square-and-multiply: two multiplications and reductions per exponent bit
            self.check_int_cost(2 * (abs(b).bit_length() + 1) * (mod_bits // 30 + 1) ** 2)
        return pow(a, b, mod)

    def lshift(self, a: Any, b: Any) -> Any:
        if _is_int(a) and _is_int(b) and a and b > 0:
            self.check_bits(a.bit_length() + b)
        return a << b

    def add(self, a: Any, b: Any) -> Any:
        if isinstance(a, SEQUENCE_TYPES) and isinstance(b, SEQUENCE_TYPES):
            self.check_size(len(a) + len(b))
        elif _is_int(a) and _is_int(b):
            if a.bit_length() > MAX_INT_BITS or b.bit_length() > MAX_INT_BITS:
                self.check_bits(max(a.bit_length(), b.bit_length()) + 1)
        return a + b

    def check_int_cost(self, cost: int) -> None:
        """Refuse one integer operation whose C-level cost would outlive any deadline (it cannot be
        interrupted and holds the GIL), and charge it as work."""
        if cost > MAX_INT_COST:
            self.stop(SizeLimitExceeded(
                f"{self.what} tried an integer operation too large to finish in time (about {cost:,} "
                f"digit operations; the limit is {MAX_INT_COST:,})"))
        self.charge(max(cost // 1000, 1))

    def check_division(self, a: Any, b: Any) -> None:
        """Guard ``a // b``, ``a % b`` and ``divmod(a, b)`` on integers (quadratic in CPython)."""
        if _is_int(a) and _is_int(b):
            a_bits, b_bits = a.bit_length(), b.bit_length()
            self.check_bits(max(a_bits, b_bits))
            self.check_int_cost(_division_cost(a_bits, b_bits))

    def floordiv(self, a: Any, b: Any) -> Any:
        self.check_division(a, b)
        return a // b

    def divmod(self, a: Any, b: Any) -> Any:
        self.check_division(a, b)
        return divmod(a, b)

    def mod(self, a: Any, b: Any) -> Any:
        if isinstance(a, str | bytes):
            spec = a.decode("latin-1") if isinstance(a, bytes) else a
            for width, precision in _PERCENT_SPEC.findall(spec):
                for number in (width, precision):
                    if number == "*":
                        self.refuse("'*' widths in %-formatting are not allowed")
                    if number and (len(number) > 9 or int(number) > self.max_sequence):
                        self.check_size(int(number) if len(number) < 30 else 10**30)
            self.check_text(b)
            result = a % b
            self.charge(max(len(result), 1))
            return result
        self.check_division(a, b)
        return a % b

    # -- conversions to text (repr of nested, shared containers grows exponentially)

    def check_text(self, value: Any) -> None:
        """Refuse converting ``value`` to text if its text would exceed ``max_sequence`` characters."""
        if isinstance(value, _SCALARS):
            if isinstance(value, str | bytes):
                self.check_size(len(value))
            return
        limit = self.max_sequence
        total, stack = 0, [(value, 0)]
        while stack:
            item, depth = stack.pop()
            self.charge(1)
            if isinstance(item, str | bytes):
                total += len(item) + 3
            elif _is_int(item):
                total += item.bit_length() // 3 + 2
            elif isinstance(item, list | tuple | set | frozenset):
                total += 2 * len(item) + 2
                if depth < MAX_TEXT_WEIGHT_DEPTH:
                    stack.extend((child, depth + 1) for child in item)
            elif isinstance(item, dict):
                total += 4 * len(item) + 2
                if depth < MAX_TEXT_WEIGHT_DEPTH:
                    stack.extend((child, depth + 1) for pair in item.items() for child in pair)
            else:
                total += 80
            if total > limit:
                self.stop(SizeLimitExceeded(
                    f"{self.what} tried to build a text of more than {limit:,} characters; "
                    f"the limit is {limit:,}"))

    def repr(self, value: Any) -> str:
        self.check_text(value)
        return repr(value)

    def ascii(self, value: Any) -> str:
        self.check_text(value)
        return ascii(value)

    def str(self, *args: Any, **kwargs: Any) -> str:
        if args:
            self.check_text(args[0])
        return str(*args, **kwargs)

    def inplacevar(self, op: str, x: Any, y: Any) -> Any:
        if op == "+=":
            if isinstance(x, list) and not isinstance(y, SEQUENCE_TYPES):
                y = list(self.getiter(y))
            if isinstance(x, SEQUENCE_TYPES) and isinstance(y, SEQUENCE_TYPES):
                self.check_size(len(x) + len(y))
            return operator.iadd(x, y)
        if op == "*=":
            self.mul(x, 0 if isinstance(x, SEQUENCE_TYPES) and not _is_int(y) else y)
            return operator.imul(x, y)
        if op == "//=":
            return self.floordiv(x, y)
        if op == "**=":
            return self.pow(x, y)
        if op == "<<=":
            return self.lshift(x, y)
        if op == "%=":
            return self.mod(x, y)
        return _INPLACE[op](x, y)

    def format(self, value: Any, spec: str = "", conversion: int = -1) -> str:
        if conversion == ord("r"):
            value = repr(value)
        elif conversion == ord("s"):
            value = str(value)
        elif conversion == ord("a"):
            value = ascii(value)
        if not isinstance(spec, str):
            raise TypeError("format spec must be a string")
        for number in _SPEC_NUMBER.findall(spec):
            if len(number) > 7 or int(number) > self.max_sequence:
                self.check_size(int(number) if len(number) < 30 else 10**30)
        self.check_text(value)
        result = format(value, spec)
        self.charge(max(len(result), 1))
        return result

    # -- attribute and item access

    def getattr(self, obj: Any, name: str, *default: Any) -> Any:
        if not isinstance(name, str):
            raise TypeError("attribute name must be a string")
        if name.startswith("_") or name.endswith("__roles__") or name in BLOCKED_ATTRIBUTES:
            self.refuse(f'Access to the attribute "{name}" is not allowed')
        if isinstance(obj, BLOCKED_TYPES):
            self.refuse(f"Access to attributes of {type(obj).__name__} objects is not allowed")
        if isinstance(obj, GuardedType):
            obj = obj.wrapped  # e.g. str.upper: the real type's attribute, never the proxy's state
        if obj is str or obj is bytes or isinstance(obj, str | bytes):
            if name in ("format", "format_map"):
                self.refuse("str.format() is not allowed; use an f-string instead")
            if name in _STR_GUARDS:
                if obj is str or obj is bytes:
                    self.refuse(f'Use "text.{name}(...)" on a value instead of {obj.__name__}.{name}')
                return _bind(_STR_GUARDS[name], self, obj)
        elif obj is int and name == "to_bytes":
            self.refuse('Use "number.to_bytes(...)" on a value instead of int.to_bytes')
        elif _is_int(obj) and name == "to_bytes":
            return _bind(_int_to_bytes, self, obj)
        elif isinstance(obj, list) and name in _LIST_GUARDS:
            return _bind(_LIST_GUARDS[name], self, obj)
        elif obj is list and name in _LIST_GUARDS:
            self.refuse(f'Use "items.{name}(...)" on a list value instead of list.{name}')
        try:
            return getattr(obj, name)
        except AttributeError:
            if default:
                return default[0]
            raise

    def getitem(self, obj: Any, key: Any) -> Any:
        return obj[key]

    def write(self, obj: Any) -> Any:
        if isinstance(obj, dict | list):
            return obj
        self.refuse(f"Changing attributes or items of {type(obj).__name__} objects is not allowed")
        return None

    def apply(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    # -- builtins that need a cap

    def range(self, *args: Any) -> range:
        result = range(*args)
        try:
            n = len(result)
        except OverflowError:
            n = sys.maxsize
        if n > self.max_sequence:
            self.stop(SizeLimitExceeded(
                f"{self.what} tried to build a range of {n:,} items; the limit is {self.max_sequence:,}"))
        self.charge(max(n, 1))  # C code (list(), sorted(), sum()...) may consume it without ticking
        return result

    def sum(self, iterable: Iterable[Any], /, start: Any = 0) -> Any:
        if not isinstance(start, NUMBER_TYPES):
            self.refuse("sum() only adds numbers; build lists or strings with a comprehension or join")
        total = start
        for item in self.getiter(iterable):
            total = self.add(total, item)
        return total

    def round(self, number: Any, ndigits: Any = None) -> Any:
        if ndigits is None:
            return round(number)
        if _is_int(ndigits) and abs(ndigits) > MAX_ROUND_DIGITS:
            self.refuse(f"round() with more than {MAX_ROUND_DIGITS} digits is not allowed")
        return round(number, ndigits)


def _bind(guard: Callable[..., Any], budget: Budget, obj: Any) -> Callable[..., Any]:
    """``guard`` bound to the budget and object as a closure: unlike functools.partial, a closure has
    no public attribute (``.args``) through which a script could reach the Budget."""
    def bound(*args: Any, **kwargs: Any) -> Any:
        return guard(budget, obj, *args, **kwargs)
    bound.__name__ = getattr(guard, "__name__", "method")
    return bound


def _int_to_bytes(budget: Budget, number: int, length: Any = 1, *args: Any, **kwargs: Any) -> bytes:
    if _is_int(length):
        budget.check_size(length)
    return number.to_bytes(length, *args, **kwargs)


def _list_index(budget: Budget, items: list[Any], value: Any, *args: Any) -> int:
    budget.check_text(value)  # a miss raises "<repr of value> is not in list", built in C
    return items.index(value, *args)


def _str_join(budget: Budget, sep: str, iterable: Iterable[Any]) -> str:
    items = iterable if isinstance(iterable, list | tuple) else list(budget.getiter(iterable))
    if len(items) > budget.max_sequence:
        budget.check_size(len(items))
    total = len(sep) * max(len(items) - 1, 0) + sum(len(i) for i in items if isinstance(i, str | bytes))
    budget.check_size(total)
    return sep.join(items)


def _str_replace(budget: Budget, text: str, old: str, new: str, count: int = -1) -> str:
    if isinstance(old, str | bytes) and isinstance(new, str | bytes):
        hits = text.count(old) if old else len(text) + 1
        if _is_int(count) and count >= 0:
            hits = min(hits, count)
        budget.check_size(len(text) + hits * max(len(new) - len(old), 0))
    return text.replace(old, new, count)


def _str_pad(method: str) -> Callable[..., str]:
    def guarded(budget: Budget, text: str, width: Any, *args: Any) -> str:
        if _is_int(width):
            budget.check_size(width)
        return getattr(text, method)(width, *args)
    return guarded


def _str_expandtabs(budget: Budget, text: str, tabsize: int = 8) -> str:
    if _is_int(tabsize):
        budget.check_size(len(text) + text.count("\t" if isinstance(text, str) else b"\t") * max(tabsize, 0))
    return text.expandtabs(tabsize)


def _guarded_extend(budget: Budget, target: list[Any], iterable: Iterable[Any]) -> None:
    items = iterable if isinstance(iterable, SEQUENCE_TYPES) else list(budget.getiter(iterable))
    budget.check_size(len(target) + len(items))
    target.extend(items)


_STR_GUARDS: dict[str, Callable[..., Any]] = {
    "join": _str_join, "replace": _str_replace, "expandtabs": _str_expandtabs,
    "ljust": _str_pad("ljust"), "rjust": _str_pad("rjust"), "center": _str_pad("center"),
    "zfill": _str_pad("zfill"),
}
_LIST_GUARDS: dict[str, Callable[..., Any]] = {"extend": _guarded_extend, "index": _list_index}
_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "-=": operator.isub, "/=": operator.itruediv, ">>=": operator.irshift,
    "|=": operator.ior, "&=": operator.iand, "^=": operator.ixor, "@=": operator.imatmul,
}


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _unavailable(name: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise SandboxViolation(f"{name}() is not allowed in scripts or expressions")
    refuse.__name__ = name
    return refuse


_SAFE_BUILTINS: dict[str, Any] = {
    name: getattr(__import__("builtins"), name)
    for name in (
        "abs", "all", "any", "ascii", "bool", "callable", "chr", "dict", "divmod", "enumerate", "filter",
        "float", "frozenset", "hash", "int", "isinstance", "issubclass", "len", "list", "map", "max",
        "min", "ord", "repr", "reversed", "set", "slice", "sorted", "str", "tuple", "zip",
        "ArithmeticError", "AssertionError", "AttributeError", "Exception", "IndexError", "KeyError",
        "LookupError", "NameError", "OverflowError", "RuntimeError", "StopIteration", "TypeError",
        "ValueError", "ZeroDivisionError",
    )
}
_SAFE_BUILTINS.update({
    "True": True, "False": False, "None": None,
    "datetime": datetime, "date": date, "timedelta": timedelta, "timezone": timezone,
    "floor": math.floor, "ceil": math.ceil,
})
# C code such as datetime.strftime/strptime imports "time"/"_strptime" through the caller's
# __builtins__; sandboxed code itself cannot name __import__ (underscore names are refused).
_INTERNAL_IMPORTS = frozenset({"time", "_strptime"})


def _internal_import(name: str, *args: Any, **kwargs: Any) -> types.ModuleType:
    if name not in _INTERNAL_IMPORTS:
        raise SandboxViolation("Imports are not allowed")
    return __import__(name, *args, **kwargs)


_SAFE_BUILTINS["__import__"] = _internal_import
for _name in sorted(FORBIDDEN_CALLS):
    _SAFE_BUILTINS[_name] = _unavailable(_name)
del _name

GUARD_NAMES = frozenset({
    "__builtins__", "_getattr_", "_getitem_", "_getiter_", "_write_", "_inplacevar_", "_apply_",
    "_iter_unpack_sequence_", "_unpack_sequence_", "_print_", "_tick_", "_mul_", "_pow_", "_add_",
    "_lshift_", "_mod_", "_format_", "_floordiv_", "__name__", "__metaclass__",
})


def make_globals(budget: Budget) -> dict[str, Any]:
    """Fresh globals for one run: safe builtins (with capped range/sum/round/pow/...) and guards."""
    builtins = dict(_SAFE_BUILTINS)
    builtins.update({
        "range": budget.range, "sum": budget.sum, "round": budget.round, "pow": budget.pow,
        "getattr": budget.getattr, "format": budget.format, "divmod": budget.divmod,
        "repr": budget.repr, "ascii": budget.ascii, "str": GuardedType(str, budget.str),
    })
    return {
        "__builtins__": builtins,
        "__name__": "sandbox",
        "_getattr_": budget.getattr,
        "_getitem_": budget.getitem,
        "_getiter_": budget.getiter,
        "_write_": budget.write,
        "_inplacevar_": budget.inplacevar,
        "_apply_": budget.apply,
        "_iter_unpack_sequence_": budget.iter_unpack_sequence,
        "_unpack_sequence_": budget.unpack_sequence,
        "_print_": _NoPrint,
        "_tick_": budget.tick,
        "_mul_": budget.mul,
        "_pow_": budget.pow,
        "_add_": budget.add,
        "_lshift_": budget.lshift,
        "_mod_": budget.mod,
        "_format_": budget.format,
        "_floordiv_": budget.floordiv,
    }


# --------------------------------------------------------------------------- JSON helpers

MAX_MESSAGE_CHARS = 2_000
_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = 200
_SHORT_REPR.maxlong = 60


def safe_text(value: Any) -> str:
    """Bounded text of an error argument (or error) that hostile code built: a string is cut,
    anything else is shown with reprlib's limits (never the full repr of a huge nested value)."""
    if isinstance(value, BaseException):
        parts = [safe_text(a) for a in value.args[:3]]
        text = parts[0] if len(parts) == 1 else ", ".join(parts)
    elif isinstance(value, str):
        text = value
    else:
        try:
            text = _SHORT_REPR.repr(value)
        except Exception:  # noqa: BLE001 - a hostile object's repr may fail in any way
            text = f"<{type(value).__name__}>"
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "..."



def json_problem(value: Any, path: str, depth: int = 0) -> str | None:
    """None if ``value`` survives a JSON round trip unchanged (tuples aside), else what is wrong."""
    if depth > 100:
        return f"{path} is nested too deeply"
    if value is None or isinstance(value, bool | int | float | str):
        return None
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            problem = json_problem(item, f"{path}[{i}]", depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path} has a key of type {type(key).__name__} ({key!r}); keys must be strings"
            problem = json_problem(item, f"{path}[{key!r}]", depth + 1)
            if problem:
                return problem
        return None
    hint = " (store dates as text, e.g. with .isoformat())" if isinstance(value, date | timedelta) else ""
    return f"{path} is a {type(value).__name__}, which cannot be stored as JSON{hint}"


def encode_frame(message: Any) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    return struct.pack(">I", len(body)) + body


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> Any:
    """Blocking read of one frame (worker side). None at end of input."""
    head = _read_exact(fd, 4)
    if head is None:
        return None
    (size,) = struct.unpack(">I", head)
    if size > MAX_FRAME_BYTES:
        raise ValueError("frame too large")
    body = _read_exact(fd, size)
    return None if body is None else json.loads(body)


def write_frame(fd: int, message: Any) -> None:
    """Blocking write of one frame."""
    _write_all(fd, encode_frame(message))


# --------------------------------------------------------------------------- worker


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
    budget = Budget("Script", float(limits["script_timeout"]), int(limits["max_sequence"]), None)
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
        return _collect(scope, data, originals, provided)
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
             provided: set[str]) -> dict[str, Any]:
    changed: dict[str, Any] = {}
    for key, value in scope.items():
        if key in GUARD_NAMES or key in provided and key not in data:
            continue
        if key not in data and (key.startswith("_") or callable(value)
                                or isinstance(value, types.ModuleType)):
            continue
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


def _write_all(fd: int, data: bytes) -> None:
    while data:
        written = os.write(fd, data)
        data = data[written:]


if __name__ == "__main__":
    main()
