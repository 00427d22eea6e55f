"""Translation in the templates without a way for data to become markup.

Templates translate literal message ids with `_('...')` and data values (task and process names, form
titles, enum values) with the `label` filter, which looks the value up in the catalog and returns plain
text for autoescape to escape. Jinja's stock `_()` marks its result safe and %-formats it, so a data value
given to it would reach the page raw and a `%` in it would answer 500; `safe_gettext` replaces it and
escapes the catalog text instead, %-formatting only when there are variables (whose values Markup escapes).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import get_translations
from markupsafe import Markup, escape


def label(value: object) -> str:
    """The catalog translation of `value` if there is one, else the value itself, as plain (unsafe) text."""
    if value is None:
        return ""
    text = str(value)  # plain str: a value marked safe loses the mark
    if not text:
        return text
    return str(get_translations().gettext(text))


def safe_gettext(message: str, /, **variables: Any) -> Markup:
    """`_()` for templates: the escaped translation of `message`, %-formatted only with `variables`."""
    text = escape(get_translations().ugettext(str(message)))
    return text % variables if variables else text


def safe_ngettext(singular: str, plural: str, num: int, /, **variables: Any) -> Markup:
    """`ngettext()` for templates: the escaped singular or plural translation, formatted with num."""
    variables.setdefault("num", num)
    return escape(get_translations().ungettext(str(singular), str(plural), num)) % variables


def init_labels(app: Flask) -> None:
    """Register the `label` filter and the escaping gettext on `app`'s templates (after Flask-Babel)."""
    app.jinja_env.filters["label"] = label
    app.jinja_env.globals.update(gettext=safe_gettext, ngettext=safe_ngettext)
