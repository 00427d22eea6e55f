"""The request's timeline as people read it: who submitted, approved, rejected, transferred, returned, added
signers, delegated, copied, commented, urged or withdrew — with the step's name, the comment (a rejection's
reason) and the time — and who has the request now; and, for a task that a rejection or a return sent back, the
reasons it came back. Engine bookkeeping (task created, gateway passed, service called) is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from api.extensions import db
from api.web.labels import comment_text, element_name, group_label, label
from engine.element_meta import ElementMeta
from engine.models import HistoryEvent, ProcessInstance, Task
from engine.rules import form_comment

WHAT = {
    "started": _l("Submitted the request"), "task_transferred": _l("Transferred"), "task_delegated": _l("Delegated"),
    "task_resolved": _l("Delegation resolved"), "task_signed": _l("Signed"), "signer_added": _l("Signer added"),
    "task_returned": _l("Returned"), "cc": _l("Copied to"), "comment": _l("Comment"), "urged": _l("Reminder sent"),
    "withdrawn": _l("Withdrawn"), "completed": _l("Finished"), "cancelled": _l("Cancelled"), "error": _l("Incident"),
    "retried": _l("Retried"), "task_claimed": _l("Task taken"), "attachment_added": _l("Attachment added"),
}
# group names of the shipped flows' candidate groups, listed for the catalogue (pending shows them with |label)
GROUP_LABELS = [_l("management"), _l("finance"), _l("hr"), _l("legal"), _l("sales")]
APPROVED, REJECTED, DONE = _l("Approved"), _l("Rejected"), _l("Completed")


@dataclass
class Entry:
    """One line of the timeline."""

    kind: str  # css: ok | bad | plain
    what: str
    who: str
    step: str
    at: datetime
    comment: str | None = None
    people: list[str] = field(default_factory=list)


def display_names(usernames: list[str]) -> dict[str, str]:
    """username -> display name (or the username) for the people named."""
    from oa.models import User
    wanted = sorted({u for u in usernames if u})[:500]
    if not wanted:
        return {}
    found = dict(db.session.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all())
    return {u: found.get(u) or u for u in wanted}


def _element_names(inst: ProcessInstance) -> dict[str, str]:
    out = {}
    for eid, raw in (inst.definition.elements or {}).items():
        meta = ElementMeta.from_dict(raw)
        out[eid] = meta.name or eid
    return out


def _step(inst: ProcessInstance, names: dict[str, str], element_id: str | None) -> str:
    """The step's name in the reader's language: any named flow node (a user task, or the service task that
    copied people in), by the flow's own translations; its id only when it has no name."""
    if not element_id:
        return ""
    named = element_name(inst, element_id)
    if named == element_id and names.get(element_id, element_id) != element_id:
        return label(names[element_id], inst)
    return named


def step_name(inst: ProcessInstance, element_id: str | None) -> str:
    """An element of the instance's process by its name in the reader's language (its id only when unnamed)."""
    return _step(inst, _element_names(inst), element_id)


def _decision(data: Any) -> bool | None:
    variables = data.get("variables") if isinstance(data, dict) else None
    if isinstance(variables, dict) and isinstance(variables.get("approved"), bool):
        return variables["approved"]
    return None


def said(event: HistoryEvent) -> str:
    """What the person wrote with the event, in the reader's language: its comment, else the task form's own
    `comment` field (completions recorded before the engine copied a form's reason into the comment)."""
    text = comment_text(event.comment)
    if text or event.type not in ("task_completed", "task_signed", "task_resolved"):
        return text
    data = event.data if isinstance(event.data, dict) else {}
    variables = data.get("variables")
    return (form_comment(variables) or "") if isinstance(variables, dict) else ""


def timeline(inst: ProcessInstance, history: list[HistoryEvent]) -> list[Entry]:
    """The human events of the instance's history, oldest first."""
    names = _element_names(inst)
    people: list[str] = []
    for e in history:
        people.append(e.user or "")
        data = e.data if isinstance(e.data, dict) else {}
        people += [str(data.get(k)) for k in ("to", "from", "user") if isinstance(data.get(k), str)]
        people += [str(u) for u in data.get("users") or [] if isinstance(u, str)]
    who = display_names(people)
    out: list[Entry] = []
    for e in history:
        data = e.data if isinstance(e.data, dict) else {}
        step = _step(inst, names, e.element_id)
        user = who.get(e.user or "", e.user or "")
        if e.type in ("task_completed", "task_signed"):  # an added signer's signature is an approval
            decided = _decision(data)
            kind = "ok" if decided else ("bad" if decided is False else "plain")
            what = APPROVED if decided else (REJECTED if decided is False else DONE)
            out.append(Entry(kind, str(what), user, step, e.at, said(e)))
        elif e.type in WHAT:
            targets = [who.get(str(data[k]), str(data[k])) for k in ("to", "user") if isinstance(data.get(k), str)]
            targets += [who.get(str(u), str(u)) for u in data.get("users") or [] if isinstance(u, str)]
            message = data.get("message") if e.type == "error" else None
            if e.type == "attachment_added" and isinstance(data.get("filename"), str):
                message = data["filename"]
            kind = "bad" if e.type in ("error", "withdrawn") else "plain"
            out.append(Entry(kind, str(WHAT[e.type]), user, step, e.at, comment_text(e.comment) or message, targets))
    return out


def sent_back(inst: ProcessInstance, history: list[HistoryEvent], task_id: str) -> list[Entry]:
    """Why the task exists when a rejection or a return sent the request back to it (the rework step after a
    rejection, a step something was returned to): those decisions with who, the step and the reason, oldest
    first — the ones after the applicant last acted (submitted or resubmitted) and before the task was
    created. Empty for any other task (e.g. an approver's step of a resubmitted round)."""
    created = next((i for i, e in enumerate(history) if e.type == "task_created" and e.task_id == task_id), None)
    if created is None:
        return []
    found: list[HistoryEvent] = []
    for e in reversed(history[:created]):
        data = e.data if isinstance(e.data, dict) else {}
        if (e.type == "task_completed" and _decision(data) is False) or e.type == "task_returned":
            found.append(e)
        elif e.user and e.user == inst.started_by and e.type in ("started", "task_completed"):
            break
    return timeline(inst, found[::-1])


def pending_people(tasks: list[Task]) -> list[tuple[Task, list[str]]]:
    """Each open task with the people who may work it now (assignee, else the offered users and groups)."""
    names = display_names([t.assignee or "" for t in tasks] + [u for t in tasks for u in t.candidate_users or []])
    out = []
    for t in tasks:
        if t.assignee:
            out.append((t, [names.get(t.assignee, t.assignee)]))
        else:
            out.append((t, [names.get(u, u) for u in t.candidate_users or []]
                        + [group_label(g) for g in t.candidate_groups or []]))
    return out
