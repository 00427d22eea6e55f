"""``Budget``: all the guards of one sandboxed run (time, work, memory, sizes, weights, text), plus
attribute and item access; guards handed to sandboxed code are bound methods or closures, never
objects with public attributes leading back to the Budget."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from .limits import BLOCKED_ATTRIBUTES, BLOCKED_TYPES, SEQUENCE_TYPES
from .meter import _is_int
from .text import _LIST_GUARDS, _STR_GUARDS, TextGuards, _bind, _int_to_bytes
from .weight import CONTAINER_TYPES, WEIGHED


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


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "-=": operator.isub, "/=": operator.itruediv, ">>=": operator.irshift,
    "|=": operator.ior, "&=": operator.iand, "^=": operator.ixor, "@=": operator.imatmul,
}



class Budget(TextGuards):
    """Guards for one run: a deadline, per-operation size caps and an optional total work cap."""

    def inplacevar(self, op: str, x: Any, y: Any) -> Any:
        if isinstance(x, list | dict | set):  # x gains references in place
            self.adding(x, tuple(y) if isinstance(x, list) and isinstance(y, list | tuple) else None)
        if op == "+=":
            if isinstance(x, list) and not isinstance(y, SEQUENCE_TYPES):
                y = list(self.getiter(y))
            if isinstance(x, list | tuple) and isinstance(y, list | tuple):
                self.check_size(len(x) + len(y))
                self.check_weight(self.weigh(x) + self.weigh(y) - 1)
            elif isinstance(x, SEQUENCE_TYPES) and isinstance(y, SEQUENCE_TYPES):
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
        return self.weighed(_INPLACE[op](x, y))  # frozenset |= builds a new value

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
            value = getattr(obj, name)
        except AttributeError:
            if default:
                return default[0]
            raise
        if (obj in CONTAINER_TYPES if isinstance(obj, type) else isinstance(obj, WEIGHED)) and callable(value):
            return self.container_method(obj, name, value)
        if isinstance(obj, BaseException):
            return self.weighed(value)  # Exception(a, a).args is a tuple built in C
        return value

    def getitem(self, obj: Any, key: Any) -> Any:
        return obj[key]

    def write(self, obj: Any) -> Any:
        if isinstance(obj, dict | list):
            self.adding(obj)  # an item is about to be stored in it
            return obj
        self.refuse(f"Changing attributes or items of {type(obj).__name__} objects is not allowed")
        return None

    def apply(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

