"""Form errors in the reader's language, naming the field by its (translated) label.

The engine's validation errors carry the JSON Schema keyword that failed (`kind`: required, minimum,
maximum, pattern, maxLength, enum, format, type, ...) and its `limit`; `FieldMessage` keeps them with the
English message, and `field_error_text` words them in the reader's language with the field's label when the
form is rendered. An error without a known kind keeps the engine's message (prefixed by the label).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from api.web.formatting import format_date
from api.web.labels import label
from api.web.people import person
from store.messages import Message, render

_TYPES = {"integer": _l("a whole number"), "number": _l("a number"), "string": _l("text"),
          "boolean": _l("yes or no"), "array": _l("a list"), "object": _l("a group of fields")}
_FORMATS = {"date": _l("a date"), "date-time": _l("a date and time"), "time": _l("a time"),
            "email": _l("an e-mail address"), "uri": _l("a web address")}
_VALID = _l("a valid value")


class FieldMessage(str):
    """An error message (the English text as a str) that remembers the failed keyword and its limit."""

    kind: str | None
    limit: Any

    def __new__(cls, message: str, kind: str | None = None, limit: Any = None) -> FieldMessage:  # noqa: D102
        made = super().__new__(cls, message)
        made.kind, made.limit = kind, limit
        return made


def field_error_text(error: str | None, title: str) -> str | None:
    """The error of a field worded in the reader's language with the field's label; None if no error."""
    if error is None:
        return None
    field = label(title)
    kind = getattr(error, "kind", None)
    limit = getattr(error, "limit", None)
    simple = {
        "required": lambda: _("%(field)s is required", field=field),
        "minimum": lambda: _("%(field)s must be at least %(limit)s", field=field, limit=limit),
        "maximum": lambda: _("%(field)s must be at most %(limit)s", field=field, limit=limit),
        "exclusiveMinimum": lambda: _("%(field)s must be more than %(limit)s", field=field, limit=limit),
        "exclusiveMaximum": lambda: _("%(field)s must be less than %(limit)s", field=field, limit=limit),
        "pattern": lambda: _("%(field)s is not in the expected format", field=field),
        "maxLength": lambda: _("%(field)s is too long (at most %(limit)s characters)", field=field, limit=limit),
        "minLength": lambda: _("%(field)s is too short (at least %(limit)s characters)", field=field, limit=limit),
        "enum": lambda: _("%(field)s must be one of the listed options", field=field),
        "const": lambda: _("%(field)s must be one of the listed options", field=field),
        "minItems": lambda: _("%(field)s needs at least %(limit)s entries", field=field, limit=limit),
        "maxItems": lambda: _("%(field)s takes at most %(limit)s entries", field=field, limit=limit),
        "format": lambda: _("%(field)s must be %(what)s", field=field,
                            what=str(_FORMATS.get(str(limit), _VALID))),
        "type": lambda: _("%(field)s must be %(what)s", field=field,
                          what=str(_TYPES.get(str(limit), _VALID))),
    }
    worded = simple.get(kind or "")
    if worded is not None:
        return str(worded())
    return str(_("%(field)s: %(message)s", field=field, message=error_text(label(str(error)))))


def from_engine(err: dict) -> FieldMessage:
    """One entry of a problem's `errors` as a FieldMessage."""
    return FieldMessage(str(err.get("message") or ""), err.get("kind"), err.get("limit"))


# ------------------------------------------------------------------ domain and marshmallow messages
# The domain keeps its messages in English (the API's problem+json says them as they are); a web page in
# another language words them from this table: a regular expression over the English text, with named groups,
# and the reader's template. Groups named `field…` are field names (shown by their label), `day…` ISO dates
# (shown in the reader's format); any other group is kept as it is. The first matching entry wins, matched
# anywhere in the text (a message may arrive wrapped, e.g. "the webhook URL is not allowed: host …").
_FIELD_NAMES = {"start_date": _l("First day"), "end_date": _l("Last day"), "start": _l("Start"), "end": _l("End"),
                "amount": _l("Amount"), "paid_on": _l("Paid on"), "due_date": _l("Due date")}
_WHAT = {"contract": _l("the contract"), "plan": _l("the instalment"), "order": _l("the order")}
_ADDRESS_KINDS = {"unspecified": _l("unspecified"), "loopback": _l("loopback"), "link-local": _l("link-local"),
                  "multicast": _l("multicast"), "private": _l("private"), "reserved": _l("reserved")}
_NUM = r"-?\d+(?:\.\d+)?"
_ID = r"[A-Za-z0-9_-]{1,64}"  # a task id
_USER = r"[A-Za-z0-9_.@-]{1,100}"  # a username
# what a delegated approver may not do (engine.commands.approvals.refuse_delegate's words)
_ACTIONS = {"transfer": _l("transfer it"), "delegate": _l("delegate it"), "add a signer to": _l("add a signer to it"),
            "return": _l("return it"), "unclaim": _l("give it back")}
_MESSAGES: tuple[tuple[re.Pattern[str], Any], ...] = tuple((re.compile(pattern), template) for pattern, template in (
    # engine.script_adapter: an incident of a service task, the domain's reason worded in its turn
    (r"^service operation '(?P<op>[a-z_.]{1,100})' refused: (?P<reason>.+)$",
     _l("service operation '%(op)s' refused: %(reason)s")),
    (r"^service operation '(?P<op>[a-z_.]{1,100})' failed: (?P<reason>.+)$",
     _l("service operation '%(op)s' failed: %(reason)s")),
    # crm.orders (a refusal an incident keeps as text)
    (r"^order (?P<number>[A-Za-z0-9-]{1,40}) is (?P<status>[a-z_]+)\.?$", _l("order %(number)s is %(status)s")),
    # oa.leave_rules / oa.workdays
    (r"no working day between (?P<field_a>\w+) and (?P<field_b>\w+)(?: \(weekends and public holidays are not "
     r"working days\))?", _l("no working day between %(field_a)s and %(field_b)s (weekends and public holidays are "
                             "not working days)")),
    (r"overlaps your approved leave on (?P<day>\d{4}-\d{2}-\d{2})", _l("overlaps your approved leave on %(day)s")),
    (r"overlaps your pending leave request (?P<id>\d+)", _l("overlaps your pending leave request %(id)s")),
    (r"the leave overlaps leave you already have", _l("the leave overlaps leave you already have")),
    (r"the leave has no working day", _l("the leave has no working day")),
    (r"must not be before (?P<field>\w+)", _l("must not be before %(field)s")),
    (r"the leave ends before it starts", _l("the leave ends before it starts")),
    (r"the leave is too long", _l("the leave is too long")),
    (r"^at most (?P<n>\d+) days$", _l("at most %(n)s days")),
    (r"a one-day leave starting pm must end pm", _l("a one-day leave starting in the afternoon must end in the "
                                                    "afternoon")),
    (r"^(?P<field>\w+) is not a date$", _l("%(field)s is not a date")),
    (r"^expected YYYY-MM-DD$", _l("expected a date (YYYY-MM-DD)")),
    # oa.org_admin
    (r"no active user (?P<name>[A-Za-z0-9_.@-]{1,100})", _l("no active user %(name)s")),
    (r"must be between (?P<day_a>\d{4}-\d{2}-\d{2}) and (?P<day_b>\d{4}-\d{2}-\d{2})",
     _l("must be between %(day_a)s and %(day_b)s")),
    # oa.receipts
    (r"this receipt is already claimed in your expense claim #(?P<id>\d+)",
     _l("this receipt is already claimed in your expense claim #%(id)s")),
    (r"this receipt is already claimed in another expense claim",
     _l("this receipt is already claimed in another expense claim")),
    (r"the same file as the receipt of another line", _l("the same file as the receipt of another line")),
    (r"already the receipt of another line", _l("already the receipt of another line")),
    # crm.contracts
    (r"the payment exceeds what is outstanding on the (?P<what>contract|plan|order)",
     _l("the payment exceeds what is outstanding on %(what)s")),
    (r"exceeds the (?P<what>contract|plan|order)'s outstanding amount",
     _l("exceeds the outstanding amount of %(what)s")),
    # engine.webhook_targets
    (r"host '(?P<host>[^']{0,300})' is not allowed: (?P<ip>[0-9a-fA-F:.]+) is a (?P<kind>[a-z-]+) address",
     _l("host '%(host)s' is not allowed: %(ip)s is a %(kind)s address")),
    (r"host '(?P<host>[^']{0,300})' is not allowed: (?P<ip>[0-9a-fA-F:.]+) is not a public address",
     _l("host '%(host)s' is not allowed: %(ip)s is not a public address")),
    (r"host '(?P<host>[^']{0,300})' does not resolve", _l("host '%(host)s' does not resolve")),
    # engine.commands: what two people acting on one request, or the wrong person, are told
    (rf"task (?P<id>{_ID}) is already claimed by (?P<user>{_USER})",
     _l("this task is already taken by %(user)s")),
    (rf"task (?P<id>{_ID}) is already assigned to (?P<user>{_USER})", _l("this task is already with %(user)s")),
    (rf"task (?P<id>{_ID}) is already (?P<status>[a-z_]+)", _l("this task is already %(status)s")),
    (rf"task (?P<id>{_ID}) is no longer waiting", _l("this task is no longer waiting")),
    (rf"this task was handed to you by (?P<user>{_USER}): you may approve or comment, not (?P<action>[a-z ]+) it",
     _l("%(user)s handed this task to you: you may approve or comment, not %(action)s")),
    (rf"(?P<user>{_USER}) is the applicant of this request and cannot work this task",
     _l("%(user)s is the applicant of this request and cannot work this task")),
    (r"this task belongs to your own request: someone else must work it",
     _l("this task belongs to your own request: someone else must work it")),
    (r"you are not a candidate for this task", _l("you are not a candidate for this task")),
    (r"only the task's assignee can unclaim it", _l("only the task's assignee can give it back")),
    (r"cannot transfer a task to yourself", _l("you cannot transfer a task to yourself")),
    (r"cannot delegate a task to yourself", _l("you cannot delegate a task to yourself")),
    (r"this task is already out with someone else; wait for it to come back",
     _l("this task is already out with someone else; wait for it to come back")),
    (r"cannot add yourself as a signer", _l("you cannot add yourself as a signer")),
    (rf"(?P<user>{_USER}) already signs after this step", _l("%(user)s already signs after this step")),
    (r"name at least one user", _l("name at least one person")),
    (rf"no active employee '(?P<user>{_USER})'", _l("%(user)s is not an active employee")),
    (r"'(?P<step>[^']{1,200})' is not an earlier step of this instance",
     _l("'%(step)s' is not an earlier step of this request")),
    (r"step '(?P<step>[^']{1,200})' can no longer be returned to", _l("step '%(step)s' can no longer be returned to")),
    (r"cannot return to '(?P<target>[^']{1,200})': step '(?P<step>[^']{1,200})' after it has already written records",
     _l("cannot return to '%(target)s': step '%(step)s' after it has already written records")),
    (r"only the applicant can urge this task", _l("only the applicant can urge this task")),
    (r"this task was urged less than 10 minutes ago", _l("this task was urged less than 10 minutes ago")),
    (r"this request was urged recently; try again later", _l("this request was urged recently; try again later")),
    (r"only the applicant can urge a request", _l("only the applicant can urge a request")),
    (r"only the applicant can withdraw a request", _l("only the applicant can withdraw a request")),
    (r"an approver has already acted on this request; it can no longer be withdrawn",
     _l("an approver has already acted on this request; it can no longer be withdrawn")),
    (r"an approver has already acted on this request; only an administrator can cancel it now",
     _l("an approver has already acted on this request; only an administrator can cancel it now")),
    (r"only the starter or an admin can cancel this instance", _l("only the applicant or an administrator can "
                                                                  "cancel this request")),
    (r"process instance (?P<id>\d+) is (?P<status>[a-z_]+), not in error",
     _l("request %(id)s is %(status)s, not in error")),
    (r"process instance (?P<id>\d+) is (?P<status>[a-z_]+)", _l("request %(id)s is %(status)s")),
    (r"^is you$", _l("cannot be yourself")),
    (r"^not a return target$", _l("not a step this task can return to")),
    (r"^a later step has already written records$", _l("a later step has already written records; it cannot be "
                                                       "returned past")),
    (r"^unknown user or not an employee$", _l("unknown person or not an employee")),
    (r"^is the applicant of this request$", _l("is the applicant of this request")),
    (r"the submitted data does not match the task's form", _l("the submitted data does not match the task's form")),
    (r"the start variables do not match the start form", _l("the submitted data does not match the request form")),
    # forms.text: the text rule (a NUL, a lone surrogate)
    (r"contains a NUL \(\\u0000\) character", _l("contains a NUL character, which cannot be stored")),
    (r"contains a lone UTF-16 surrogate \(\\u(?P<code>[0-9a-f]{4})\), which is not valid Unicode text",
     _l("contains a lone UTF-16 surrogate (\\u%(code)s), which is not valid Unicode text")),
    # api.http.query_args (and the request list's own query check): the error page's detail
    (r"^some query arguments are invalid$", _l("some query arguments are invalid")),
    (r"^some query arguments are out of range$", _l("some query arguments are out of range")),
    (r"^query arguments may not contain NUL characters$", _l("query arguments may not contain NUL characters")),
    # marshmallow's standard validator and field messages
    (rf"Must be greater than or equal to (?P<min>{_NUM}) and less than or equal to (?P<max>{_NUM})\.",
     _l("Must be between %(min)s and %(max)s.")),
    (rf"Must be greater than or equal to (?P<min>{_NUM})\.", _l("Must be at least %(min)s.")),
    (rf"Must be less than or equal to (?P<max>{_NUM})\.", _l("Must be at most %(max)s.")),
    (rf"Must be greater than (?P<min>{_NUM})\.", _l("Must be more than %(min)s.")),
    (rf"Must be less than (?P<max>{_NUM})\.", _l("Must be less than %(max)s.")),
    (r"Length must be between (?P<min>\d+) and (?P<max>\d+)\.", _l("Length must be between %(min)s and %(max)s.")),
    (r"Shorter than minimum length (?P<min>\d+)\.", _l("Shorter than minimum length %(min)s.")),
    (r"Longer than maximum length (?P<max>\d+)\.", _l("Longer than maximum length %(max)s.")),
    (r"Length must be (?P<n>\d+)\.", _l("Length must be %(n)s.")),
    (r"Must be one of: [^\n]{0,500}\.", _l("Must be one of the listed options.")),
    (r"Missing data for required field\.", _l("This field is required.")),
    (r"Field may not be null\.", _l("This field is required.")),
    (r"Not a valid email address\.", _l("Not a valid e-mail address.")),
    (r"Not a valid (?:integer|number|decimal)\.", _l("Not a valid number.")),
    (r"Not a valid date\.", _l("Not a valid date.")),
    (r"Not a valid datetime\.", _l("Not a valid date and time.")),
    (r"Not a valid (?:string|boolean|URL|mapping|list|tuple|UUID)\.", _l("Not a valid value.")),
    (r"Invalid value\.", _l("Not a valid value.")),
    (r"Unknown field\.", _l("Unknown field.")),
    (r"^required$", _l("required")),
))
_MAX_TEXT = 2000  # a message longer than this is shown as it is (never run patterns over huge input)


def _group_text(name: str, value: str) -> str:
    if name.startswith("field"):
        known = _FIELD_NAMES.get(value)
        return str(known) if known is not None else label(value)
    if name.startswith("day"):
        try:
            return format_date(date.fromisoformat(value))
        except ValueError:
            return value
    if name.startswith("user"):
        return person(value)
    if name.startswith("status"):  # a state key (won, draft): its label
        return label(value)
    if name.startswith("reason"):  # a message inside a message
        return error_text(value)
    if name == "what":
        known = _WHAT.get(value)
        return str(known) if known is not None else value
    if name == "kind":
        return str(_ADDRESS_KINDS.get(value, value))
    if name == "action":
        known = _ACTIONS.get(value)
        return str(known) if known is not None else value
    return value


def error_text(message: object) -> str:
    """A domain or marshmallow message worded in the reader's language (field names as labels, dates in the
    reader's format); in English, or for a message the table does not know, the text as it is. A message the
    domain raised as a `store.messages.Message` is translated by its key with its parameters (`field…` as labels,
    `day…` as dates, `user…` as display names, `status…` by their label); any other through the patterns below."""
    text = "" if message is None else str(message)
    if not text or len(text) > _MAX_TEXT or english():
        return text
    if isinstance(message, Message):
        template = str(get_translations().ugettext(message.key))
        return render(template, {k: error_text(v) if isinstance(v, Message) else _group_text(k, v)
                                 if isinstance(v, str) else v for k, v in message.params.items()})
    for pattern, template in _MESSAGES:
        found = pattern.search(text)
        if found is not None:
            words = str(template) % {k: _group_text(k, v) for k, v in found.groupdict().items()}
            return text[:found.start()] + words + text[found.end():]
    return text


def english() -> bool:
    """Whether the reader reads English (the domain's own language)."""
    locale = get_locale()
    return locale is None or locale.language == "en"
