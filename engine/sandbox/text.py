"""``TextGuards``: conversions to text (``str``, ``repr``, ``format``, f-strings, ``%``) whose output
may be huge for a small value (nested, shared containers), and the guarded str/bytes/list methods."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterable
from typing import Any

from .limits import MAX_TEXT_WEIGHT_DEPTH, SCALARS, SEQUENCE_TYPES, SizeLimitExceeded
from .meter import _is_int
from .numbers import NumberGuards

_SPEC_NUMBER = re.compile(r"\d+")
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


class TextGuards(NumberGuards):
    """Guards that turn values into text."""

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
        if isinstance(value, SCALARS):
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

    def format(self, value: Any, spec: str = "", conversion: int = -1) -> str:
        self.check_text(value)  # before !r/!s/!a build the text in one C call
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


def _bind(guard: Callable[..., Any], budget: TextGuards, obj: Any) -> Callable[..., Any]:
    """``guard`` bound to the budget and object as a closure: unlike functools.partial, a closure has
    no public attribute (``.args``) through which a script could reach the Budget."""
    def bound(*args: Any, **kwargs: Any) -> Any:
        return guard(budget, obj, *args, **kwargs)
    bound.__name__ = getattr(guard, "__name__", "method")
    return bound


def _int_to_bytes(budget: TextGuards, number: int, length: Any = 1, *args: Any, **kwargs: Any) -> bytes:
    if _is_int(length):
        budget.check_size(length)
    return number.to_bytes(length, *args, **kwargs)


def _list_index(budget: TextGuards, items: list[Any], value: Any, *args: Any) -> int:
    budget.check_text(value)  # a miss raises "<repr of value> is not in list", built in C
    budget.weighed(items)  # and it compares value with the items
    budget.weighed(value)
    return items.index(value, *args)


def _str_join(budget: TextGuards, sep: str, iterable: Iterable[Any]) -> str:
    items = iterable if isinstance(iterable, list | tuple) else list(budget.getiter(iterable))
    if len(items) > budget.max_sequence:
        budget.check_size(len(items))
    total = len(sep) * max(len(items) - 1, 0) + sum(len(i) for i in items if isinstance(i, str | bytes))
    budget.check_size(total)
    return sep.join(items)


def _str_replace(budget: TextGuards, text: str, old: str, new: str, count: int = -1) -> str:
    if isinstance(old, str | bytes) and isinstance(new, str | bytes):
        hits = text.count(old) if old else len(text) + 1
        if _is_int(count) and count >= 0:
            hits = min(hits, count)
        budget.check_size(len(text) + hits * max(len(new) - len(old), 0))
    return text.replace(old, new, count)


def _str_pad(method: str) -> Callable[..., str]:
    def guarded(budget: TextGuards, text: str, width: Any, *args: Any) -> str:
        if _is_int(width):
            budget.check_size(width)
        return getattr(text, method)(width, *args)
    return guarded


def _str_expandtabs(budget: TextGuards, text: str, tabsize: int = 8) -> str:
    if _is_int(tabsize):
        budget.check_size(len(text) + text.count("\t" if isinstance(text, str) else b"\t") * max(tabsize, 0))
    return text.expandtabs(tabsize)


# codecs implemented in C, linear in their input: pure-Python codecs (punycode, idna, uu, ...) run for
# seconds on a modest input without calling any guard, so they are refused
SAFE_CODECS = frozenset({"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be",
                         "ascii", "latin-1", "iso8859-1", "cp1252", "gbk", "gb2312", "gb18030", "big5"})


def _codec_name(budget: TextGuards, encoding: Any) -> str:
    """The canonical name of `encoding`; refused unless it is one of SAFE_CODECS."""
    if not isinstance(encoding, str):
        raise TypeError("encoding must be a string")
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(f"unknown encoding {encoding[:50]!r}") from None
    if name not in SAFE_CODECS:
        budget.refuse(f"the encoding {name!r} is not allowed (use utf-8, utf-16, utf-32, ascii, latin-1 or gbk)")
    return name


def _text_codec(method: str) -> Callable[..., Any]:
    def guarded(budget: TextGuards, text: Any, encoding: Any = "utf-8", errors: Any = "strict") -> Any:
        budget.charge(max(len(text), 1))
        return getattr(text, method)(_codec_name(budget, encoding), errors)
    return guarded


def _guarded_extend(budget: TextGuards, target: list[Any], iterable: Iterable[Any]) -> None:
    items = iterable if isinstance(iterable, SEQUENCE_TYPES) else list(budget.getiter(iterable))
    budget.check_size(len(target) + len(items))
    budget.adding(target, tuple(items))
    target.extend(items)


_STR_GUARDS: dict[str, Callable[..., Any]] = {
    "join": _str_join, "replace": _str_replace, "expandtabs": _str_expandtabs,
    "ljust": _str_pad("ljust"), "rjust": _str_pad("rjust"), "center": _str_pad("center"),
    "zfill": _str_pad("zfill"), "encode": _text_codec("encode"), "decode": _text_codec("decode"),
}
_LIST_GUARDS: dict[str, Callable[..., Any]] = {"extend": _guarded_extend, "index": _list_index}


