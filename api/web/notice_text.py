"""Notifications in the reader's language: a notification's title and body are rendered when it is read from
its stored message key and parameters (store.messages); task and process names among the parameters are
translated like every other flow label, a request's outcome in the word its pages use. A row written without
a key shows its text through the `label` filter.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l

from api.web.formatting import format_date
from api.web.labels import label, process_name
from api.web.outcome_words import word_of
from api.web.people import person
from engine.outcomes import CANCELLED_OUTCOMES, REJECTED_OUTCOMES
from store.messages import render

# the message keys the platform writes (listed so the extractor puts them into the catalogue)
NOTICE_KEYS = [
    _l("New task: {task}"), _l("{process} #{instance}"), _l("{process} #{instance} {outcome}"),
    _l("For your information: request #{instance}"), _l("For your information: {process} #{instance}"),
    _l("Delegated task is back: {task}"), _l("{user} has finished"), _l("{user} has finished: {comment}"),
    _l("Signed, back to you: {task}"), _l("Please sign: {task}"), _l("after {user}"),
    _l("Task transferred to you: {task}"), _l("from {user}"), _l("from {user}: {comment}"),
    _l("Task delegated to you: {task}"), _l("by {user}"), _l("Please sign first: {task}"), _l("for {user}"),
    _l("Reminder: {task} is waiting for you"), _l("{user} is waiting on {process} #{instance}"),
    _l("Reminder: {title}"), _l("Starts {when}"), _l("{user} mentioned you in “{title}”"),
    _l("Invitation: {title}"), _l("{user} invited you ({when})"), _l("Follow up with {name}"),
    _l("Planned for {day}"), _l("Task handed over to you: {task}"), _l("{user} was deactivated"),
    # titles the shipped flows give their CC notifications (engine.builtins: cc's title as a message key)
    _l("Approved leave: {applicant}, {start} to {end}"),
]


def _params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as the reader reads them: process and task names and outcomes translated, people by name."""
    key = params.get("process_key")
    out = dict(params)
    if "process" in out:
        out["process"] = process_name(key) if key else label(out["process"])
    if "task" in out:
        out["task"] = label(out["task"], key)
    if "outcome" in out:
        out["outcome"] = _outcome(out["outcome"], key)
    for name in ("user", "applicant"):  # usernames: the person's display name
        if isinstance(out.get(name), str):
            out[name] = person(out[name])
    for name in ("start", "end", "day"):  # ISO dates: in the reader's format
        out[name] = _date_text(out.get(name))
    return {k: v for k, v in out.items() if v is not None}


def _date_text(value: Any) -> Any:
    """An ISO date (2026-12-28) in the reader's format; anything else as it is."""
    if isinstance(value, str) and len(value) == 10:
        try:
            return format_date(date.fromisoformat(value))
        except ValueError:
            return value
    return value


def _outcome(said: Any, key: Any) -> str:
    """A finished request's outcome as its pages word it (engine.outcomes.final_word wrote it; notifications
    written before said the flow's raw `outcome`, e.g. `cancelled` for an order the rep gave up, or `completed`)."""
    word = str(said or "")
    if word.lower() in REJECTED_OUTCOMES:
        return word_of("rejected", None)
    if word.lower() in CANCELLED_OUTCOMES:
        return word_of("cancelled", None)
    return word_of("approved", None if word in ("", "completed") else word, key)


def notice_text(notification: Any, part: str = "title") -> str:
    """The title (or body) of a notification in the reader's language, as plain text for autoescape."""
    stored = ((getattr(notification, "message", None) or {}).get(part)) if part in ("title", "body") else None
    if isinstance(stored, dict) and isinstance(stored.get("key"), str):
        template = str(get_translations().gettext(stored["key"]))
        params = stored.get("params") if isinstance(stored.get("params"), dict) else {}
        return render(template, _params(params))
    return label(getattr(notification, part, "") or "")
