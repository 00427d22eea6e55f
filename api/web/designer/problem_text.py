"""Deployment problems in the reader's language on the designer page.

The engine words its problems in English (the API returns them as they are); the designer page words the ones a
designer most often meets from this table: a regular expression over the English text and the reader's template.
Element ids, attribute names and references are kept as they are. A message the table does not know is shown in
English.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l

from api.web.common.error_text import english

_MESSAGES: tuple[tuple[re.Pattern[str], Any], ...] = tuple((re.compile(pattern), template) for pattern, template in (
    # engine.flow_refs
    (r"^sequence flow (?P<id>\S+) starts at unknown element '(?P<ref>[^']*)' \((?P<attr>\w+)\)$",
     _l("sequence flow %(id)s starts at unknown element '%(ref)s' (%(attr)s)")),
    (r"^sequence flow (?P<id>\S+) targets unknown element '(?P<ref>[^']*)' \((?P<attr>\w+)\)$",
     _l("sequence flow %(id)s targets unknown element '%(ref)s' (%(attr)s)")),
    (r"^sequence flow (?P<id>\S+) (?:starts at|targets) '(?P<ref>[^']*)', a (?P<kind>\S+) that is not a flow "
     r"element of the same process or subprocess \((?P<attr>\w+)\)$",
     _l("sequence flow %(id)s: '%(ref)s' (%(kind)s) is not a flow element of the same process or subprocess "
        "(%(attr)s)")),
    (r"^sequence flow (?P<id>\S+) names no element in (?P<attr>\w+)$",
     _l("sequence flow %(id)s names no element in %(attr)s")),
    (r"^boundary event (?P<id>\S+) is attached to unknown element '(?P<ref>[^']*)' \((?P<attr>\w+)\)$",
     _l("boundary event %(id)s is attached to unknown element '%(ref)s' (%(attr)s)")),
    (r"^boundary event (?P<id>\S+) is attached to '(?P<ref>[^']*)', which is not an activity of the same "
     r"process or subprocess \((?P<attr>\w+)\)$",
     _l("boundary event %(id)s is attached to '%(ref)s', which is not an activity of the same process or "
        "subprocess (%(attr)s)")),
    (r"^boundary event (?P<id>\S+) names no activity in (?P<attr>\w+)$",
     _l("boundary event %(id)s names no activity in %(attr)s")),
    (r"^the default flow '(?P<ref>[^']*)' of (?P<id>\S+) is not a sequence flow leaving it \((?P<attr>\w+)\)$",
     _l("the default flow '%(ref)s' of %(id)s is not a sequence flow leaving it (%(attr)s)")),
    # engine.approval_checks
    (r"^user task (?P<id>\S+) looks like an approval \(the gateway after it tests 'approved'\) but its form has no "
     r"boolean field 'approved'",
     _l("user task %(id)s looks like an approval (the gateway after it tests 'approved') but its form has no yes/no "
        "field 'approved': the approver gets no Approve / Reject buttons and the flow cannot tell approval from "
        "rejection; use forms/approval.json or add camunda:formField id=\"approved\" type=\"boolean\"")),
    (r"^user task (?P<id>\S+) looks like an approval \(its name says so\) but its form has no boolean field "
     r"'approved'",
     _l("user task %(id)s looks like an approval (its name says so) but its form has no yes/no field 'approved': "
        "the approver gets no Approve / Reject buttons and the flow cannot tell approval from rejection; use "
        "forms/approval.json or add camunda:formField id=\"approved\" type=\"boolean\"")),
))
_MAX_TEXT = 2000


def problem_text(message: object) -> str:
    """A deployment problem worded in the reader's language; in English, or when unknown, as it is."""
    text = "" if message is None else str(message)
    if not text or len(text) > _MAX_TEXT or english():
        return text
    for pattern, template in _MESSAGES:
        found = pattern.search(text)
        if found is not None:
            return str(template) % found.groupdict()
    return text


def problem_rows(problems: list[Any]) -> list[dict]:
    """The problems as the designer page shows them: JSON-ready dicts with the message in the reader's
    language."""
    return [{**p.to_dict(), "message": problem_text(p.message)} for p in problems]
