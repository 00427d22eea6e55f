"""``NumberGuards``: operators and builtins on numbers and sequences whose single C-level call could
build too large a value or hold the GIL too long (``*``, ``**``, ``<<``, ``+``, ``//``, ``divmod``,
``range``, ``sum``, ``round``)."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from typing import Any

from .limits import (
    CONTAINERS,
    MAX_INT_BITS,
    MAX_ROUND_DIGITS,
    MAX_TEXT_WEIGHT_DEPTH,
    NUMBER_TYPES,
    SEQUENCE_TYPES,
    SizeLimitExceeded,
)
from .meter import _division_cost, _is_int
from .weight import WeightMeter


class NumberGuards(WeightMeter):
    """Guarded arithmetic and capped numeric builtins."""

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
        if not isinstance(value, CONTAINERS):
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
        if isinstance(a, list | tuple) and isinstance(b, list | tuple):
            self.check_size(len(a) + len(b))
            weight = self.weigh(a) + self.weigh(b) - 1
            self.check_weight(weight)
            result = a + b
            self.remember(result, weight)
            return result
        if isinstance(a, SEQUENCE_TYPES) and isinstance(b, SEQUENCE_TYPES):
            self.check_size(len(a) + len(b))
        elif _is_int(a) and _is_int(b):
            if a.bit_length() > MAX_INT_BITS or b.bit_length() > MAX_INT_BITS:
                self.check_bits(max(a.bit_length(), b.bit_length()) + 1)
        return a + b


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

