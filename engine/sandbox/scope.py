"""The globals of one sandboxed run: safe builtins (with capped ``range``/``sum``/``round``/...) and
the guards RestrictedPython's compiled code calls (``_getattr_``, ``_getiter_``, ``_mul_``...)."""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

from .budget import Budget, GuardedType, _NoPrint
from .limits import FORBIDDEN_CALLS, SandboxViolation


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
    "_lshift_", "_mod_", "_format_", "_floordiv_", "_weighed_", "__name__", "__metaclass__",
})


def make_globals(budget: Budget) -> dict[str, Any]:
    """Fresh globals for one run: safe builtins (with capped range/sum/round/pow/...) and guards."""
    builtins = dict(_SAFE_BUILTINS)
    builtins.update({
        "range": budget.range, "sum": budget.sum, "round": budget.round, "pow": budget.pow,
        "getattr": budget.getattr, "format": budget.format, "divmod": budget.divmod,
        "repr": budget.repr, "ascii": budget.ascii, "str": GuardedType(str, budget.str),
        "sorted": budget.sorted, "min": budget.min, "max": budget.max, "zip": budget.zip, "map": budget.map,
    })
    builtins["slice"] = GuardedType(slice, budget.slice)
    for cls in (list, tuple, dict, set, frozenset):  # isinstance() works, calls weigh the result
        builtins[cls.__name__] = GuardedType(cls, budget.builder(cls))
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
        "_weighed_": budget.weighed,
    }

