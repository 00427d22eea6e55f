"""The one rule for text oaflow stores: no NUL character and no lone UTF-16 surrogate.

No UTF-8 column can hold a lone surrogate (`"\\ud800"` in JSON decodes to one), and PostgreSQL text refuses NUL,
so every entry point refuses such text with an error naming the field (/api/v1: 422, /engine-rest: 400), and
the web pages show text that is already stored with :func:`displayable`."""

from __future__ import annotations

import re
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
MESSAGE = "text may not contain NUL characters or lone UTF-16 surrogates"


def problem_in(text: str) -> str | None:
    """Why `text` cannot be stored (a NUL, or a lone surrogate that no UTF-8 column can hold), or None.
    json.loads joins a valid escaped pair into one character, so any surrogate left is a lone one."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL (\\u0000) character"
    return f"contains a lone UTF-16 surrogate (\\u{ord(found.group()):04x}), which is not valid Unicode text"


def printable(text: str) -> str:
    """`text` with lone surrogates shown as U+FFFD, so a message naming it can itself be encoded."""
    return _SURROGATE.sub("\ufffd", text)


def displayable(text: str) -> str:
    """`text` as a page can show it: NULs and lone surrogates (stored before the rule held) as U+FFFD. Uses
    the string's own replace, so a str subclass (markupsafe's Markup) keeps its type."""
    for found in set(_UNSTORABLE.findall(text)):
        text = text.replace(found, "\ufffd")
    return text


def unstorable(value: Any, path: str = "", separator: str = "/") -> tuple[str, str] | None:
    """(path, why) of the first key or string in a JSON value that cannot be stored, or None; the path joins
    keys and list indexes with `separator` (`variables/reason`) and is printable."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:  # depth-first, in document order, without recursion (any nesting depth)
        item, here = stack.pop()
        if isinstance(item, str):
            why = problem_in(item)
            if why:
                return printable(here or "body"), why
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                name = f"{here}{separator}{key}" if here else str(key)
                if isinstance(key, str) and (why := problem_in(key)):
                    return printable(name), why
                children.append((child, name))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([(child, f"{here}{separator}{i}" if here else str(i))
                                   for i, child in enumerate(item)]))
    return None
