"""Translation of data values (task and process names, form titles, enum values) for the pages.

Templates translate literal message ids with `_('...')`; a value that comes from data goes through the
`label` filter instead. Jinja's `_()` marks its result safe and %-formats it, so `_(task.name)` would put
a designer's or an employee's markup raw into the page and answer 500 for a name with a `%`. `label`
looks the value up in the catalog and returns plain text, which autoescape then escapes.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import get_translations


def label(value: object) -> str:
    """The catalog translation of `value` if there is one, else the value itself, as plain (unsafe) text."""
    if value is None:
        return ""
    text = str(value)  # plain str: a value marked safe loses the mark
    if not text:
        return text
    return str(get_translations().gettext(text))


def init_labels(app: Flask) -> None:
    """Register the `label` filter on `app`'s templates."""
    app.jinja_env.filters["label"] = label
