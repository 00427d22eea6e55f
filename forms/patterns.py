"""Form `pattern`s run safely: matched by the `regex` module with a time limit, on text of bounded length, and
checked at deploy for nested quantifiers (`(a+)+`, `(\\w+\\s?)*`), the classic catastrophic backtracking shapes.

Python's `re` has no time limit and holds the GIL: one form field with `^(a+)+$` and 35 characters of input
froze a whole server process. Here a match gets MATCH_TIMEOUT seconds and one validation PATTERN_BUDGET seconds
for all its matches (a field that runs out is an error naming it, kind `pattern`); text longer than
MAX_PATTERN_INPUT characters is not run against a pattern at all (an error, kind `maxLength`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from re import _constants as sre  # the standard library's own parser, to read a pattern's structure
from re import _parser as sre_parse
from typing import Any

import regex

MAX_PATTERN_INPUT = 1000  # characters of one value checked against a pattern
MAX_PATTERN_LENGTH = 1000  # characters of a pattern a form may declare
MATCH_TIMEOUT = 0.1  # seconds for one match
PATTERN_BUDGET = 0.5  # seconds for every match of one validation together
_deadline: ContextVar[float | None] = ContextVar("pattern_deadline", default=None)


class PatternTimeout(Exception):
    """A match ran out of its time (the pattern backtracks too much on this text)."""


@contextmanager
def budget(seconds: float = PATTERN_BUDGET) -> Iterator[None]:
    """Within the block, all pattern matches together may take `seconds` (nested blocks keep the outer one)."""
    token = _deadline.set(time.monotonic() + seconds) if _deadline.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _deadline.reset(token)


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches somewhere in `text` (JSON Schema's `pattern` is unanchored), within the time
    left; PatternTimeout when it runs out, regex.error for a pattern `regex` cannot compile."""
    deadline = _deadline.get()
    left = MATCH_TIMEOUT if deadline is None else min(MATCH_TIMEOUT, deadline - time.monotonic())
    if left <= 0:
        raise PatternTimeout(pattern)
    try:
        return regex.search(pattern, text, timeout=left) is not None
    except TimeoutError:
        raise PatternTimeout(pattern) from None


# ------------------------------------------------------------------ deploy-time checks
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
_FIXED = {sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY}


def _children(op: Any, av: Any) -> list[Any]:
    """The sub-sequences of one parsed item (group bodies, alternatives, lookaround bodies)."""
    if op in _REPEATS:
        return [av[2]]
    if op is sre.SUBPATTERN:
        return [av[3]]
    if op is sre.BRANCH:
        return list(av[1])
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return [av[1]]
    if op is sre.GROUPREF_EXISTS:
        return [s for s in av[1:] if s is not None]
    if op is getattr(sre, "ATOMIC_GROUP", None):
        return [av]
    return []


def _varies(items: Any) -> bool:
    """True if `items` holds a quantifier that repeats a variable number of times (`+`, `*`, `{1,5}`)."""
    for op, av in items:
        if op in _REPEATS and av[1] > 1 and av[1] != av[0]:
            return True
        if any(_varies(child) for child in _children(op, av)):
            return True
    return False


def _fixed(items: Any) -> bool:
    """True if `items` must match some character outside any quantifier (a literal or a class): such a
    separator splits the repetitions of an outer quantifier, so the inner one cannot be re-split."""
    for op, av in items:
        if op in _FIXED:
            return True
        if op is sre.SUBPATTERN and _fixed(av[3]):
            return True
        if op is sre.BRANCH and all(_fixed(alt) for alt in av[1]):
            return True
    return False


def _nested(items: Any) -> bool:
    for op, av in items:
        if op in _REPEATS and av[1] > 1 and _varies(av[2]) and not _fixed(av[2]):
            return True
        if any(_nested(child) for child in _children(op, av)):
            return True
    return False


def pattern_problem(pattern: str) -> str | None:
    """Why a form may not declare `pattern`, or None: too long, not a regular expression, or a quantifier
    repeating another one with nothing fixed between them (catastrophic backtracking)."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"the pattern is longer than {MAX_PATTERN_LENGTH} characters"
    try:
        regex.compile(pattern)
    except (regex.error, RecursionError, OverflowError, ValueError) as err:
        return f"the pattern is not a valid regular expression: {str(err)[:200]}"
    try:
        parsed = sre_parse.parse(pattern)
    except (sre.error, RecursionError, OverflowError, ValueError):
        return None  # syntax only `regex` reads (\p{Han}): left to the time limit
    if _nested(parsed):
        return ("the pattern nests quantifiers (like (a+)+), which can take exponential time to match; "
                "rewrite it so that a repeated group starts or ends with a fixed character")
    return None


def pattern_problems(schema: Any) -> list[tuple[str, str]]:
    """(field, why) for each `pattern` and `patternProperties` key of a form that may not be used; the field is
    the path of property names down to it (`code`, `items/0/sku` as `items/sku`), or `(form)` at the top."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(schema, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, list):
            stack.extend((item, path) for item in node)
            continue
        if not isinstance(node, dict):
            continue
        candidates = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        if isinstance(node.get("patternProperties"), dict):
            candidates.extend(k for k in node["patternProperties"] if isinstance(k, str))
        for pattern in candidates:
            why = pattern_problem(pattern)
            if why:
                found.append((path or "(form)", why))
        for key, child in node.items():
            if key == "properties" and isinstance(child, dict):
                stack.extend((sub, f"{path}/{name}" if path else str(name)) for name, sub in child.items())
            elif isinstance(child, dict | list) and key not in ("enum", "const", "default", "examples"):
                stack.append((child, path))
    return sorted(set(found))
