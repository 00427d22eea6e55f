"""Translation in the templates without a way for data to become markup, and the central label table.

Templates translate literal message ids with `_('...')` and data values (task and process names, form
titles, enum values, status keys) with the `label` filter, which returns plain text for autoescape to escape.
It looks a value up, in this order: the flow's own translations (`<process>.i18n.json`, stored with each
definition version, see engine.flow_i18n) when the process is named, the central table of raw keys
(`VALUE_LABELS`: statuses and CRM enums), the gettext catalog (shipped labels, api/web/form_labels.py), and
the translations of every deployed flow. Jinja's stock `_()` marks its result safe and %-formats it, so a data
value given to it would reach the page raw and a `%` in it would answer 500; `safe_gettext` replaces it and
escapes the catalog text instead, %-formatting only when there are variables (whose values Markup escapes).
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, current_app, g
from flask_babel import get_locale, get_translations
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import func, select

# raw keys stored in records → what people read (statuses, outcomes, CRM enums); extracted into the catalog
VALUE_LABELS: dict[str, Any] = {
    # instances, tasks, requests
    "running": _l("In approval"), "completed": _l("Completed"), "cancelled": _l("Cancelled"),
    "error": _l("Incident"),
    "open": _l("Open"), "withdrawn": _l("Withdrawn"), "suspended": _l("Suspended"), "approved": _l("Approved"),
    "rejected": _l("Rejected"), "pending": _l("Pending"), "done": _l("Done"), "failed": _l("Failed"),
    "delivered": _l("Delivered"), "active": _l("Active"), "inactive": _l("Inactive"),
    # CRM: opportunities, orders, contracts, receivables, tickets, quotes
    "won": _l("Won"), "lost": _l("Lost"), "draft": _l("Draft"), "confirmed": _l("Confirmed"),
    "closed": _l("Closed"), "paid": _l("Paid"), "partially_paid": _l("Partially paid"), "unpaid": _l("Unpaid"),
    "overdue": _l("Overdue"), "in_progress": _l("In progress"), "resolved": _l("Resolved"), "ordered": _l("Ordered"),
    "invoiced": _l("Invoiced"), "expired": _l("Expired"),
    "lead": _l("Lead"), "qualified": _l("Qualified"), "proposal": _l("Proposal"), "negotiation": _l("Negotiation"),
    "low": _l("Low"), "normal": _l("Normal"), "medium": _l("Medium"), "high": _l("High"), "urgent": _l("Urgent"),
    # customer enums as crm/demo.py and the CRM forms store them: level, source, industry, region
    "A": _l("A (key account)"), "B": _l("B (important)"), "C": _l("C (regular)"), "D": _l("D (small)"),
    "referral": _l("Referral"), "web": _l("Website"), "trade show": _l("Trade show"), "cold call": _l("Cold call"),
    "advertising": _l("Advertising"), "partner": _l("Partner"),
    "manufacturing": _l("Manufacturing"), "retail": _l("Retail"), "technology": _l("Technology"),
    "energy": _l("Energy"), "logistics": _l("Logistics"), "healthcare": _l("Healthcare"),
    "education": _l("Education"), "government": _l("Government"),
    "north": _l("North"), "east": _l("East"), "south": _l("South"), "west": _l("West"),
    "central": _l("Central"), "overseas": _l("Overseas"),
    # attendance
    "present": _l("Present"), "late": _l("Late"), "absent": _l("Absent"), "leave": _l("On leave"),
    "early_leave": _l("Left early"),
}

# a request's outcome as the approval centre, the admin console and the notifications say it (approvals.outcome)
OUTCOME_LABELS: dict[str, Any] = {"running": _l("In approval"), "approved": _l("Approved"), "rejected": _l("Rejected"),
                                  "withdrawn": _l("Withdrawn"), "cancelled": _l("Cancelled"),
                                  "incident": _l("Incident")}

# comments the app itself writes into a request's history (stored in English, as they always were; the web
# withdraw writes the first) → what people read
SYSTEM_COMMENTS: dict[str, Any] = {"withdrawn in the web app": _l("Withdrawn in the web app")}


# the groups a task may be offered to (oa.demo.DEMO_GROUPS) by their English names; other languages translate the
# key itself (the catalogue has `finance` 财务, `hr` 人事: "Finance" there is the CRM industry, 金融)
GROUP_NAMES: dict[str, str] = {"sales": "Sales", "finance": "Finance", "hr": "HR", "legal": "Legal",
                               "management": "Management"}


class _FlowTables:
    """Every deployed flow's translation tables and element names, reread when a definition is deployed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: object = None
        self.by_key: dict[str, dict[str, Any]] = {}  # process key → labels of its latest version with any
        self.by_id: dict[int, dict[str, Any]] = {}  # definition id → its labels

    def refresh(self) -> _FlowTables:
        """Reread the stored labels if a definition was added since the last read (once per request)."""
        if "oaflow_flow_tables" in g:
            return self
        from api.extensions import db
        from engine.models import ProcessDefinition
        stamp = db.session.scalar(select(func.max(ProcessDefinition.id)))
        with self._lock:
            if stamp != self._stamp:
                rows = db.session.execute(select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.name,
                                                 ProcessDefinition.labels).order_by(ProcessDefinition.id)).all()
                by_key: dict[str, dict[str, Any]] = {}
                by_id: dict[int, dict[str, Any]] = {}
                for row in rows:
                    labels = dict(row.labels or {})
                    labels["process_name"] = row.name
                    by_id[row.id] = labels
                    by_key[row.key] = labels
                self.by_key, self.by_id, self._stamp = by_key, by_id, stamp
        g.oaflow_flow_tables = True
        return self

    def table(self, labels: dict[str, Any] | None, lang: str) -> dict[str, str]:
        """One flow's translations into `lang`."""
        return ((labels or {}).get("translations") or {}).get(lang) or {}


def _flows() -> _FlowTables:
    """This app's flow tables (one per app: each app has its own database), refreshed for this request."""
    tables = current_app.extensions.setdefault("oaflow_flow_tables", _FlowTables())
    return tables.refresh()


def _lang() -> str:
    """The reader's language as the translation files name it (`zh-CN`), or '' for English."""
    locale = get_locale()
    if locale is None or locale.language == "en":
        return ""
    return "zh-CN" if locale.language == "zh" else str(locale).replace("_", "-")


def reader_language() -> str:
    """The reader's language as the flows' translation files name it (`zh-CN`), or '' for English."""
    return _lang()


def _flow_labels(process: object) -> dict[str, Any] | None:
    """The stored labels of a process named by key, definition id, definition or instance (None if unknown)."""
    if process is None:
        return None
    flows = _flows()
    if isinstance(process, int):
        return flows.by_id.get(process)
    if isinstance(process, str):
        return flows.by_key.get(process)
    definition_id = getattr(process, "definition_id", None)
    if getattr(process, "__tablename__", "") == "process_definition":
        definition_id = process.id  # type: ignore[attr-defined]
    labels = flows.by_id.get(definition_id) if isinstance(definition_id, int) else None
    key = getattr(process, "process_key", None) or getattr(process, "key", None)
    return labels if labels is not None else (flows.by_key.get(key) if isinstance(key, str) else None)


def label(value: object, process: object = None) -> str:
    """The reader's-language text of a data value, as plain (unsafe) text; the value itself if none is known.

    `process` (a key, definition id, definition or instance) puts that flow's own translations first.
    """
    if value is None:
        return ""
    text = str(value)  # plain str: a value marked safe loses the mark
    if not text:
        return text
    lang = _lang()
    if lang and process is not None:
        own = _flows().table(_flow_labels(process), lang).get(text)
        if own:
            return own
    known = VALUE_LABELS.get(text)
    if known is not None:
        return str(known)
    translated = str(get_translations().gettext(text))
    if translated != text or not lang:
        return translated
    flows = _flows()
    for labels in reversed(list(flows.by_key.values())):
        found = flows.table(labels, lang).get(text)
        if found:
            return found
    return text


def value_label(value: object) -> object:
    """A status or CRM key (`high`, `paid`, `manufacturing`) in the reader's language; any other value as it is
    (free text a user typed is never looked up in the catalogue)."""
    return label(value) if isinstance(value, str) and value in VALUE_LABELS else value


def comment_text(comment: object) -> str:
    """A history comment as people read it: the app's own comments in the reader's language, others as typed."""
    if comment is None:
        return ""
    known = SYSTEM_COMMENTS.get(str(comment))
    return str(known) if known is not None else str(comment)


def element_name(process: object, element_id: str | None) -> str:
    """An element's name (translated) instead of its id; the id when the element has no name."""
    if not element_id:
        return ""
    names = (_flow_labels(process) or {}).get("names") or {}
    name = names.get(element_id)
    return label(name, process) if name else str(element_id)


def group_label(name: object) -> str:
    """A group a task is offered to (`finance`) as people read it: Finance, 财务; an unknown group as it is."""
    if name is None:
        return ""
    text = str(name)
    if not _lang() and text in GROUP_NAMES:
        return GROUP_NAMES[text]
    return label(text)


def process_name(process: object) -> str:
    """A process's name in the reader's language (from its key, definition or instance); the key if unnamed."""
    labels = _flow_labels(process) or {}
    key = process if isinstance(process, str) else getattr(process, "process_key", None) or getattr(
        process, "key", None)
    name = labels.get("process_name") or key or ""
    return label(name, process) if name else ""


def instance_title(process: object, instance_id: object = None) -> str:
    """`请假申请 #3` instead of `leave_request #3`: a request's title from its process and id."""
    number = instance_id if instance_id is not None else getattr(process, "instance_id", None) or getattr(
        process, "id", None)
    name = process_name(getattr(process, "process_key", None) or process)
    return f"{name} #{number}" if number is not None else name


def safe_gettext(message: str, /, **variables: Any) -> Markup:
    """`_()` for templates: the escaped translation of `message`, %-formatted only with `variables`."""
    text = escape(get_translations().ugettext(str(message)))
    return text % variables if variables else text


def safe_ngettext(singular: str, plural: str, num: int, /, **variables: Any) -> Markup:
    """`ngettext()` for templates: the escaped singular or plural translation, formatted with num."""
    variables.setdefault("num", num)
    return escape(get_translations().ungettext(str(singular), str(plural), num)) % variables


def init_labels(app: Flask) -> None:
    """Register the label filters and the escaping gettext on `app`'s templates (after Flask-Babel)."""
    app.jinja_env.filters.update(label=label, process_name=process_name, instance_title=instance_title,
                                 value_label=value_label, comment_text=comment_text, group_label=group_label)
    app.jinja_env.globals.update(gettext=safe_gettext, ngettext=safe_ngettext, element_name=element_name)
