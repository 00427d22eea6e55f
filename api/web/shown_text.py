"""Every value a page shows passes through :func:`shown`, Jinja's `finalize`: text stored before the text rule
held (forms.text: a NUL, a lone UTF-16 surrogate) is shown as U+FFFD instead of failing the page with a 500
(a lone surrogate cannot be encoded as UTF-8). Markup stays markup; other values are left to Jinja."""

from __future__ import annotations

from typing import Any

from flask import Flask

from forms.text import displayable, problem_in


def shown(value: Any) -> Any:
    """`value` as a page may output it: a str (or Markup) without NUL or lone surrogates."""
    if not isinstance(value, str) or problem_in(value) is None:
        return value
    return displayable(value)  # Markup's replace keeps it markup


def init_shown_text(app: Flask) -> None:
    """Make :func:`shown` the finalize step of every template the app renders (set before any is compiled)."""
    app.jinja_env.finalize = shown
