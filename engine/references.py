"""Typed record references at run time: check them when data comes in, record them, claim and release records.

The form side (declarations, the resolver registry) lives in forms.references; the app factory plugs the
CRM/OA resolvers in. Here the engine:
- checks a start form's or a task form's references for the acting user (`check_submitted`), and re-checks the
  start form's references (existence and state only) whenever a task is completed (`recheck_started`);
- records what an instance references (`record`), so open tasks grant read access to those records
  (`open_task_references`), and claims `x-oaflow-ref-exclusive` records for the instance's life: the
  record_claim primary key lets exactly one running instance per (record, process) exist, on every database;
- releases the claims when the instance ends (`release_claims`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.errors import InvalidData
from engine.models import InstanceReference, ProcessInstance, RecordClaim, Task, TaskCandidate
from forms.references import BUSINESS_KEY, business_key_of, declared, ref_value, ref_values, registry

ENDED = ("completed", "cancelled")


def _raise(problems: list[tuple[str, str]], detail: str) -> None:
    if problems:
        raise InvalidData(detail, errors=[{"field": f, "message": m} for f, m in problems])


def check_submitted(session: Session, schema: Any, data: dict, username: str) -> None:
    """422 naming the field for each reference in `data` the user may not use (unknown, out of scope, state)."""
    if declared(schema):
        _raise(registry.check(session, schema, data, username), "a referenced record cannot be used")


def business_key(schema: Any, data: dict, sent: str | None) -> str | None:
    """The instance's business key: derived from the start form's references when the form declares
    `x-oaflow-business-key` (a different key sent by the client is a 422 naming `business_key`, so a key
    cannot name a record the starter did not reference), else the key the client sent."""
    if not isinstance(schema, dict) or BUSINESS_KEY not in schema:
        return sent
    derived = business_key_of(schema, data)
    if sent is not None and sent != derived:
        _raise([("business_key", f"this flow's business key is derived from its start form: "
                                 f"{str(derived)[:255]!r}; send that or none")],
               "the business key does not match the records the flow starts on")
    return derived


def recheck_started(session: Session, start_schema: Any, variables: dict) -> None:
    """422 naming the field if a record the instance started on is gone or no longer in an accepted state."""
    if declared(start_schema):
        _raise(registry.check(session, start_schema, variables, None),
               "a record this flow works on is gone or no longer in a state the flow accepts; "
               "the starter may withdraw or cancel the instance")


def record(session: Session, inst: ProcessInstance, schema: Any, data: dict) -> None:
    """Write the instance's references from submitted `data`, and claim its exclusive ones while it runs.

    A record already claimed by another running instance of the same process answers 422 naming the field;
    two concurrent claims meet at the primary key (the second waits for the first and then fails)."""
    refs = [(ref, path, value) for ref in declared(schema) for path, raw in ref_values(ref, data)
            if (value := ref_value(raw)) is not None]
    if not refs:
        return
    known = set(session.execute(select(InstanceReference.field, InstanceReference.ref_id)
                                .where(InstanceReference.instance_id == inst.id)).all())
    rows = [{"instance_id": inst.id, "ref_type": ref.type, "ref_id": value, "field": path}
            for ref, path, value in refs if (path, value) not in known]
    if rows:
        session.execute(insert(InstanceReference.__table__), rows)
    if inst.status in ENDED:
        return
    for ref, path, value in refs:
        if ref.exclusive:
            _claim(session, inst, ref.type, value, path)


def _claim(session: Session, inst: ProcessInstance, ref_type: str, ref_id: str, field: str) -> None:
    holder = session.scalar(select(RecordClaim.instance_id).where(
        RecordClaim.ref_type == ref_type, RecordClaim.ref_id == ref_id, RecordClaim.purpose == inst.process_key))
    if holder == inst.id:
        return
    problem = [(field, f"{ref_type} {ref_id} is already in a running {inst.process_key} "
                       f"(instance #{holder}); finish or cancel that one first" if holder else
                       f"{ref_type} {ref_id} is being submitted to {inst.process_key} by someone else right now")]
    if holder is not None:
        _raise(problem, "the record is already being worked on by another instance")
    try:
        session.execute(insert(RecordClaim.__table__).values(ref_type=ref_type, ref_id=ref_id,
                                                             purpose=inst.process_key, instance_id=inst.id,
                                                             field=field))
    except IntegrityError:
        _raise(problem, "the record is already being worked on by another instance")


def may_claim(forms: dict) -> bool:
    """True if any of a definition's forms declares an exclusive reference (only then can it hold claims)."""
    return any(ref.exclusive for schema in forms.values() for ref in declared(schema))


def release_claims(session: Session, instance_id: int) -> None:
    """Drop the instance's record claims (it ended)."""
    session.execute(delete(RecordClaim).where(RecordClaim.instance_id == instance_id))


def open_task_references(session: Session, username: str, groups: set[str] | frozenset[str]) -> list[tuple]:
    """(ref_type, ref_id, task_id) of every record referenced by an instance in which the user has an open
    task, as assignee or candidate (user or group): index look-ups on task, task_candidate, instance_reference."""
    candidate = select(TaskCandidate.task_id).where(or_(
        (TaskCandidate.kind == "user") & (TaskCandidate.value == username),
        (TaskCandidate.kind == "group") & TaskCandidate.value.in_(sorted(groups)) if groups else False))
    open_tasks = select(Task.id, Task.instance_id).where(
        Task.status == "open", or_(Task.assignee == username, Task.id.in_(candidate))).subquery()
    return [tuple(row) for row in session.execute(
        select(InstanceReference.ref_type, InstanceReference.ref_id, open_tasks.c.id)
        .join(open_tasks, open_tasks.c.instance_id == InstanceReference.instance_id))]
