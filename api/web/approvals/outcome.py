"""The outcome of a request as people say it: approved, rejected, withdrawn, in progress or incident.

Derived from the instance's end state and the flow's outcome variables (never typed, engine.outcomes): a
completed flow whose `outcome` says rejected, or whose last decision was `approved = False`, was rejected; one
whose `outcome` says cancelled (a rejected order the rep gave up) was cancelled, as a cancelled instance; a
cancelled instance with a `withdrawn` history event was withdrawn by its applicant. One word for
one outcome everywhere (`outcome_word`): the approval centre, my requests, the request page, the task page, the
admin console and the applicant's notification all say it the same way.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select
from sqlalchemy.orm import Session

from api.web.outcome_words import BADGE, LABELS, OUTCOMES, word_of
from engine.models import HistoryEvent, ProcessInstance
from engine.outcomes import CANCELLED_OUTCOMES, REJECTED_OUTCOMES, called_off, turned_down

__all__ = ["BADGE", "LABELS", "OUTCOMES", "outcome_clause", "outcome_of", "outcome_word", "withdrawn_ids", "word_of"]


def outcome_of(inst: ProcessInstance, withdrawn: bool = False) -> str:
    """One of OUTCOMES for the instance; `withdrawn` says whether its history has a withdrawn event."""
    if inst.status == "error":
        return "incident"
    if inst.status == "running":
        return "running"
    if inst.status == "cancelled":
        return "withdrawn" if withdrawn else "cancelled"
    variables = inst.variables or {}
    if turned_down(variables):
        return "rejected"
    return "cancelled" if called_off(variables) else "approved"


def outcome_word(inst: ProcessInstance, outcome: str) -> str:
    """The word for the instance's outcome (`outcome`: outcome_of(inst)), as every page and the notification say it."""
    return word_of(outcome, (inst.variables or {}).get("outcome"), inst)


def withdrawn_ids(session: Session, ids: list[int]) -> set[int]:
    """The instances among `ids` that their applicant withdrew."""
    if not ids:
        return set()
    return set(session.scalars(select(HistoryEvent.instance_id).where(
        HistoryEvent.instance_id.in_(ids), HistoryEvent.type == "withdrawn")))


def _withdrawn_clause() -> ColumnElement[bool]:
    return exists().where(HistoryEvent.instance_id == ProcessInstance.id, HistoryEvent.type == "withdrawn")


def _approved_is_false(dialect: str) -> ColumnElement[bool]:
    """`approved` is the JSON value false (no cast that a non-boolean value could break)."""
    if dialect == "sqlite":
        return func.json_type(ProcessInstance.variables, "$.approved") == "false"
    return ProcessInstance.variables["approved"].as_string() == "false"


def outcome_clause(outcome: str, dialect: str) -> ColumnElement[bool]:
    """A SQL condition on ProcessInstance selecting the instances whose outcome_of() is `outcome`
    (`dialect`: the session's database dialect name)."""
    said = ProcessInstance.variables["outcome"].as_string()
    # every branch is NULL-free, so not_(rejected) is exact
    rejected = or_(and_(said.is_not(None), func.lower(said).in_(REJECTED_OUTCOMES)),
                   and_(said.is_(None), func.coalesce(_approved_is_false(dialect), false())))
    called_off = and_(said.is_not(None), func.lower(said).in_(CANCELLED_OUTCOMES))
    completed = ProcessInstance.status == "completed"
    if outcome == "running":
        return ProcessInstance.status == "running"
    if outcome == "incident":
        return ProcessInstance.status == "error"
    if outcome == "withdrawn":
        return and_(ProcessInstance.status == "cancelled", _withdrawn_clause())
    if outcome == "cancelled":
        return or_(and_(ProcessInstance.status == "cancelled", not_(_withdrawn_clause())), and_(completed, called_off))
    if outcome == "rejected":
        return and_(completed, rejected)
    return and_(completed, not_(rejected), not_(called_off))
