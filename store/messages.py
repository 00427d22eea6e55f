"""Texts written now and read later in the reader's language: a message key (the English template with
`{name}` placeholders) and its parameters, carried as a `str` whose value is the English rendering.

A producer writes `Message("New task: {task}", task=row.name, process_key=key)` wherever a title was a
string before; the in-app inbox stores the key and the parameters beside the English text
(oa.notifications), and the web app renders them in the reader's language when they are read
(api/web/notice_text.py). Every other reader (the API, e-mail, webhooks) keeps the English text.
"""

from __future__ import annotations

from typing import Any

MAX_PARAM = 500


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Message(str):
    """English text that remembers its message key and parameters (values kept as short strings/numbers, or
    Messages: a reason inside a sentence)."""

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, **params: Any) -> Message:  # noqa: D102
        clean = {k: (v if isinstance(v, (int, float, Message)) and not isinstance(v, bool) else str(v)[:MAX_PARAM])
                 for k, v in params.items() if v is not None}  # a Message parameter is translated too
        made = super().__new__(cls, key.format_map(_Blank(clean)))
        made.key, made.params = key, clean
        return made

    def as_dict(self) -> dict[str, Any]:
        """The stored form: {"key": ..., "params": {...}}."""
        return {"key": self.key, "params": dict(self.params)}


def render(template: str, params: dict[str, Any]) -> str:
    """A (translated) template filled with parameters; an unknown placeholder is left as written."""
    try:
        return template.format_map(_Blank(params))
    except (ValueError, IndexError, AttributeError):  # a malformed template: show it rather than fail the page
        return template


def stored(text: Any) -> dict[str, Any] | None:
    """The stored form of a title or body if it is a Message, else None."""
    return text.as_dict() if isinstance(text, Message) else None
