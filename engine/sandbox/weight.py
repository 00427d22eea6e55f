"""``WeightMeter``: the "weight" guard of nested values built by sandboxed code.

A value's weight is its number of leaves counting shared references again: ``a = (a, a)`` repeated
40 times is a few KB in memory but weighs 2**40, and hashing, comparing, sorting, printing or
serialising it is ONE C-level call that holds the GIL for minutes. Every container display,
comprehension, container-building builtin (``list()``, ``tuple()``, ``dict()``, ``set()``,
``frozenset()``, ``sorted()``, ``zip()``, ``map()``, ``min()``/``max()``) and container method that
returns a new value is weighed when it is built, and so is every operand of a comparison, every item
a loop or unpacking takes, the arguments of container methods that compare (``index``, ``count``,
``remove``, ``sort``) and the result of a run; a value heavier than the cap is refused ("size").

Weights are memoised by ``id`` for one run (the memo holds a reference, so an id cannot be reused
while it is remembered). Every container met inside a weighed value is marked "embedded". When a
container gains items (``append``, ``extend``, ``insert``, ``update``, ``setdefault``, ``add``, item
assignment, ``+=``, ``|=``): if it is embedded, a remembered weight of a value containing it may be
stale, so every remembered weight of a nested value is dropped; if not, only its own weight changes
(kept up to date for ``append``/``insert``/``extend``, else dropped). Flat containers (no container
inside) have their weight computed from ``len``. A walk never does more than ``cap`` steps, so
weighing is itself bounded.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .limits import SizeLimitExceeded
from .meter import Meter

VIEW_TYPES = (type({}.keys()), type({}.values()), type({}.items()))
WEIGHED = (list, tuple, dict, set, frozenset, *VIEW_TYPES)
CONTAINER_TYPES = frozenset({list, tuple, dict, set, frozenset})
PLAIN_TYPES = frozenset({int, float, str, bool, type(None), bytes})  # the hot path: one set look-up
# Methods that put more references into a container they are called on.
ADDERS = frozenset({"append", "extend", "insert", "update", "setdefault", "add"})
# Methods whose result is a new container built in C from references to existing values.
NEW_VALUE_METHODS = frozenset({"copy", "fromkeys", "popitem"})
# Methods of sequences that compare the items with their argument (or with each other).
COMPARING_METHODS = frozenset({"index", "count", "remove", "sort"})
SMALL = 4096                   # a container this short, of scalars only, is weighed without a walk
FLAT_MEMO_MIN_LEN = 8          # shorter flat containers are cheaper to rescan than to remember
NESTED_MEMO_MIN_WEIGHT = 32
MAX_MEMO_ENTRIES = 50_000      # a memo is only a cache: past this it is emptied
MAX_EMBEDDED = 200_000
WALK_CHARGE_EVERY = 4096       # steps of a walk between two looks at the deadline


def _children(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        return (part for pair in value.items() for part in pair)
    if isinstance(value, VIEW_TYPES[2]):
        return (part for pair in value for part in pair)
    return iter(value)


def _flat_weight(value: Any) -> int:
    return 2 * len(value) + 1 if isinstance(value, dict) else len(value) + 1


class WeightMeter(Meter):
    """Weighs the containers a run builds and refuses one heavier than ``max_sequence`` leaves."""

    def __init__(self, what: str, timeout: float, max_sequence: int, work_limit: int | None,
                 memory_growth: int | None = None, clock: Callable[[], float] = time.thread_time,
                 wall_limit: float | None = None) -> None:
        super().__init__(what, timeout, max_sequence, work_limit, memory_growth, clock, wall_limit)
        self.max_weight = max_sequence
        self._flat: dict[int, Any] = {}                  # id -> flat container (weight from len)
        self._nested: dict[int, tuple[Any, int]] = {}    # id -> (container, weight)
        self._embedded: set[int] = set()  # ids of containers met inside a weighed value (may be stale)

    # -- weighing

    def weighed(self, value: Any) -> Any:
        """``value`` itself, after refusing it if it weighs more than the cap (the hot path: a
        scalar costs one isinstance check)."""
        if type(value) not in PLAIN_TYPES and isinstance(value, WEIGHED):
            self.weigh(value)
        return value

    def weigh(self, value: Any) -> int:
        """The weight of ``value`` (SizeLimitExceeded past the cap)."""
        if type(value) in PLAIN_TYPES or not isinstance(value, WEIGHED):
            return 1
        key = id(value)
        if key in self._flat:
            return _flat_weight(value)
        hit = self._nested.get(key)
        if hit is not None:
            return hit[1]
        if len(value) <= SMALL and not isinstance(value, VIEW_TYPES):  # fast path: a few scalars
            if isinstance(value, dict):
                for item_key, item in value.items():
                    if isinstance(item_key, WEIGHED) or isinstance(item, WEIGHED):
                        return self._walk(value)
            else:
                for item in value:
                    if type(item) not in PLAIN_TYPES and isinstance(item, WEIGHED):
                        return self._walk(value)
            if len(value) >= FLAT_MEMO_MIN_LEN:
                self.remember(value, 0, flat=True)
            return _flat_weight(value)
        return self._walk(value)

    def _too_heavy(self) -> None:
        self.stop(SizeLimitExceeded(
            f"{self.what} tried to build a nested value of more than {self.max_weight:,} items "
            f"(shared parts counted each time they appear); the limit is {self.max_weight:,}"))

    def _walk(self, root: Any) -> int:
        cap, flat, nested = self.max_weight, self._flat, self._nested
        steps = 0
        active = {id(root)}
        stack: list[list[Any]] = [[root, _children(root), 1, True]]
        weight = 1
        embedded = self._embedded
        if len(embedded) > MAX_EMBEDDED:
            self._forget_nested()
        while stack:
            frame = stack[-1]
            descended = False
            for child in frame[1]:
                steps += 1
                if steps % WALK_CHARGE_EVERY == 0:
                    self.charge(1)
                if not isinstance(child, WEIGHED):
                    frame[2] += 1
                else:
                    frame[3] = False
                    key = id(child)
                    embedded.add(key)
                    if key in flat:
                        frame[2] += _flat_weight(child)
                    elif key in nested:
                        frame[2] += nested[key][1]
                    elif key in active:  # a cycle (a list inside itself): C code stops there too
                        frame[2] += 1
                    else:
                        active.add(key)
                        stack.append([child, _children(child), 1, True])
                        descended = True
                        break
                if frame[2] > cap or steps > cap:
                    self._too_heavy()
            if descended:
                continue
            stack.pop()
            obj, weight, is_flat = frame[0], frame[2], frame[3]
            active.discard(id(obj))
            self.remember(obj, weight, is_flat)
            if stack:
                stack[-1][2] += weight
                if stack[-1][2] > cap:
                    self._too_heavy()
        self.charge(1)
        return weight

    def remember(self, value: Any, weight: int, flat: bool = False) -> None:
        """Memoise the weight of a container for the rest of the run (until a mutation)."""
        if isinstance(value, VIEW_TYPES):
            return
        if flat and len(value) >= FLAT_MEMO_MIN_LEN:
            if len(self._flat) >= MAX_MEMO_ENTRIES:
                self._flat.clear()
            self._flat[id(value)] = value
        elif not flat and weight >= NESTED_MEMO_MIN_WEIGHT:
            if len(self._nested) >= MAX_MEMO_ENTRIES:
                self._forget_nested()
            self._nested[id(value)] = (value, weight)

    def check_weight(self, weight: int) -> None:
        """Refuse a value whose weight (computed by the caller) is over the cap."""
        if weight > self.max_weight:
            self._too_heavy()

    def _forget_nested(self) -> None:
        self._nested.clear()
        self._embedded.clear()  # no remembered weight of a nested value is left to go stale

    def adding(self, container: Any, added: tuple[Any, ...] | None = None) -> None:
        """``container`` is about to gain references: ``added`` (the new items, if known) or
        unknown ones (``None``; ``container`` None: any container, e.g. an unbound method)."""
        if container is None:
            self._flat.clear()
            self._forget_nested()
            return
        key = id(container)
        if key in self._embedded:
            self._flat.pop(key, None)
            self._forget_nested()
            return
        if added is None or any(isinstance(item, WEIGHED) for item in added):
            self._flat.pop(key, None)
        hit = self._nested.get(key)
        if hit is None:
            return
        if added is None:
            del self._nested[key]
            return
        weight = hit[1] + sum(self.weigh(item) for item in added)
        self.check_weight(weight)
        self._nested[key] = (container, weight)
        self._embedded.update(id(item) for item in added if isinstance(item, WEIGHED))

    # -- guarded builders

    def builder(self, cls: type) -> Callable[..., Any]:
        """``cls(...)`` (list, tuple, dict, set, frozenset) with its result weighed."""
        def build(*args: Any, **kwargs: Any) -> Any:
            return self.weighed(cls(*args, **kwargs))
        build.__name__ = cls.__name__
        return build

    def weighed_items(self, iterable: Iterable[Any]) -> Iterable[Any]:
        """``iterable`` whose items are weighed as C code takes them (a weighed container as is)."""
        if isinstance(iterable, WEIGHED):
            self.weigh(iterable)
            return iterable
        weighed = self.weighed
        return (weighed(item) for item in iterable)

    def weighing(self, func: Callable[..., Any] | None) -> Callable[..., Any] | None:
        """``func`` (a key function) with its results weighed."""
        if func is None:
            return None
        weighed = self.weighed

        def key(*args: Any, **kwargs: Any) -> Any:
            return weighed(func(*args, **kwargs))
        return key

    def sorted(self, iterable: Iterable[Any], /, *, key: Any = None, reverse: bool = False) -> list[Any]:
        """``sorted()`` comparing only weighed items and keys; its result is weighed."""
        return self.weighed(builtins.sorted(self.weighed_items(iterable), key=self.weighing(key), reverse=reverse))

    def _extreme(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if kwargs.get("key") is not None:
            kwargs["key"] = self.weighing(kwargs["key"])
        if len(args) == 1:
            args = (self.weighed_items(args[0]),)
        else:
            for arg in args:
                self.weighed(arg)
        return self.weighed(func(*args, **kwargs))

    def min(self, *args: Any, **kwargs: Any) -> Any:
        """``min()`` comparing only weighed items and keys."""
        return self._extreme(builtins.min, args, kwargs)

    def max(self, *args: Any, **kwargs: Any) -> Any:
        """``max()`` comparing only weighed items and keys."""
        return self._extreme(builtins.max, args, kwargs)

    def slice(self, *args: Any) -> slice:
        """``slice()`` of integers (or None) only: a slice holding other values could nest them."""
        if any(arg is not None and not isinstance(arg, int) for arg in args):
            raise TypeError("slice() takes integers or None")
        return slice(*args)

    def zip(self, *iterables: Iterable[Any], strict: bool = False) -> Iterator[tuple[Any, ...]]:
        """``zip()`` whose tuples are weighed as they are made."""
        weighed = self.weighed
        return (weighed(item) for item in builtins.zip(*iterables, strict=strict))

    def map(self, func: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
        """``map()`` whose results are weighed as they are made."""
        weighed = self.weighed
        return (weighed(item) for item in builtins.map(func, *iterables))

    def container_method(self, obj: Any, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        """A method of a list/tuple/dict/set (or of one of those types, unbound) wrapped so that
        adding to a container invalidates the memo, comparing weighs what is compared and a new
        container built from existing references is weighed."""
        is_type = isinstance(obj, type)

        def call(*args: Any, **kwargs: Any) -> Any:
            if name in ADDERS:
                added = args[-1:] if name in ("append", "insert") else None
                self.adding(None if is_type else obj, added)
            else:
                if name in COMPARING_METHODS and not is_type:
                    self.weighed(obj)
                for arg in args:
                    self.weighed(arg)
                for value in kwargs.values():
                    self.weighed(value)
                if kwargs.get("key") is not None:
                    kwargs["key"] = self.weighing(kwargs["key"])
            result = method(*args, **kwargs)
            return self.weighed(result) if name in NEW_VALUE_METHODS else result
        call.__name__ = name
        return call

    def getiter(self, obj: Iterable[Any]) -> Iterator[Any]:
        """Iteration by sandboxed code (``for``, comprehensions, unpacking): each step counts as
        work and each item is weighed (``dict.items()`` and ``zip`` build tuples in C)."""
        iterator = iter(obj)
        charge, weighed = self.charge, self.weighed

        def counted() -> Iterator[Any]:
            for item in iterator:
                charge(1)
                yield weighed(item)
        return counted()
