"""Approver rules: what happens to a new task whose approver is missing, is the applicant, or just approved,
and to a completion that hands a delegated or co-signed task back instead of moving the flow."""

from __future__ import annotations

from dataclasses import dataclass

from engine import assignment
from engine.context import Actor, CommandContext
from engine.models import Task
from store.messages import Message


@dataclass(frozen=True)
class ApprovalRules:
    """How the engine treats awkward approvers (configurable per installation).

    empty_approver: "skip" approves a task nobody can be found for; "user:NAME" hands it to NAME.
    self_approval: "manager" hands a task whose approver is the applicant to the applicant's manager;
                   "skip" approves it; "allow" leaves it.
    auto_approve_repeat: the same person approving two steps in a row approves the second automatically.
    """

    empty_approver: str = "user:admin"
    self_approval: str = "manager"
    auto_approve_repeat: bool = True


def apply_rules(ctx: CommandContext, rules: ApprovalRules, row: Task, people: assignment.Assignment,
                directory: assignment.Directory) -> assignment.Assignment:
    """Empty approver, self-approval and repeated-approver rules.

    Unless self-approval is allowed, the applicant never works a task of their own request that the model
    did not give to them directly: an approval assigned to them goes to their manager (or, with nobody
    there, the empty-approver rule decides), and they are no candidate, neither by name nor as a group
    member (a group left with nobody else is empty). `row.excluded_user` keeps them out for good.
    """
    people, gone = _drop_inactive(people, directory)
    starter = ctx.instance.started_by
    guard = starter if rules.self_approval != "allow" and starter else None
    if guard and guard in people.candidate_users:
        people = assignment.Assignment(people.assignee, [u for u in people.candidate_users if u != guard],
                                       people.candidate_groups)
    if guard and people.assignee == guard and is_approval(ctx, row):
        if rules.self_approval == "skip":
            ctx.auto_complete.append((row.id, "approved automatically: the approver is the applicant"))
            row.excluded_user = None
            return people
        manager = directory.manager_of(starter)
        if manager:
            ctx.record("task_reassigned", user=None, task_id=row.id, element_id=row.element_id,
                       data={"from": starter, "to": manager, "rule": "approver is the applicant"})
            people = assignment.Assignment(assignee=manager)
        else:  # nobody above the applicant: whoever else is offered it, else the empty-approver rule
            people = assignment.Assignment(None, people.candidate_users, people.candidate_groups)
    row.excluded_user = guard if guard and people.assignee != guard else None
    if not people.assignee and not people.candidate_users and not _groups_have_members(
            people.candidate_groups, directory, row.excluded_user):
        return _empty_approver(ctx, rules, row, people, gone)
    if gone:  # the named assignee is no active user: the task is offered to its candidates instead
        ctx.record("task_reassigned", user=None, task_id=row.id, element_id=row.element_id,
                   data={"from": gone, "to": None, "rule": f"{gone} is not an active user"})
    if rules.auto_approve_repeat and people.assignee and is_approval(ctx, row) \
            and _previous_approver(ctx) == people.assignee:
        ctx.auto_complete.append((row.id, f"approved automatically: {people.assignee} approved the previous step"))
    return people


def _drop_inactive(people: assignment.Assignment,
                   directory: assignment.Directory) -> tuple[assignment.Assignment, str | None]:
    """The people without an assignee or candidate users that are no active user (unknown, deactivated), and
    the dropped assignee's name: a task must not wait for someone who cannot log in."""
    gone = people.assignee if people.assignee and not directory.user_exists(people.assignee) else None
    users = [u for u in people.candidate_users if directory.user_exists(u)]
    if gone is None and len(users) == len(people.candidate_users):
        return people, None
    return assignment.Assignment(None if gone else people.assignee, users, people.candidate_groups), gone


def _empty_approver(ctx: CommandContext, rules: ApprovalRules, row: Task,
                    people: assignment.Assignment, gone: str | None = None) -> assignment.Assignment:
    """Nobody may work the task: approve it automatically, or hand it to the configured fallback user. `gone`
    names the assignee the model gave, who is no active user (the history says so)."""
    why = f"{gone} is not an active user" if gone else "no approver could be found"
    if rules.empty_approver == "skip":
        ctx.auto_complete.append((row.id, f"approved automatically: {why}"))
        return people
    fallback = rules.empty_approver.removeprefix("user:")
    if fallback == row.excluded_user:  # the last resort filed it: better than a task nobody may work
        row.excluded_user = None
    ctx.record("task_reassigned", user=None, task_id=row.id, element_id=row.element_id,
               data={"from": gone, "to": fallback, "rule": why})
    return assignment.Assignment(assignee=fallback)


def is_approval(ctx: CommandContext, row: Task) -> bool:
    """An approval task is one whose form asks for `approved`."""
    schema = ctx.loaded.forms.get(row.form or "") or {}
    return "approved" in (schema.get("properties") or {})


def _groups_have_members(groups: list[str], directory: assignment.Directory, excluded: str | None = None) -> bool:
    return any(directory.members_of(g) - {excluded} for g in groups)


def _previous_approver(ctx: CommandContext) -> str | None:
    """Who approved the step just before, if it was an approval in this same command."""
    for event in reversed(ctx.history):
        if event.type == "task_completed":
            variables = (event.data or {}).get("variables") or {}
            return event.user if variables.get("approved") is True else None
    return None


def approves(variables: dict) -> bool:
    """A submission approves unless it says `approved: false`."""
    return variables.get("approved", True) is not False


def form_comment(variables: dict) -> str | None:
    """The task form's own `comment` field when it says something (the reason a rejecting form requires)."""
    said = variables.get("comment")
    return said if isinstance(said, str) and said.strip() else None


def intercept_completion(ctx: CommandContext, row: Task, actor: Actor, variables: dict,
                         comment: str | None) -> bool:
    """Completions that do not move the flow: a delegate resolving, a signer signing, a signer queue.

    Returns True if the completion was handled here (the BPMN task stays open).
    """
    if row.delegation == "delegated":
        ctx.record("task_resolved", task_id=row.id, element_id=row.element_id, comment=comment,
                   data={"variables": variables, "returned_to": row.owner})
        finished = "{user} has finished: {comment}" if comment else "{user} has finished"  # keys listed in the web
        ctx.notify([row.owner or ""], "task_returned",
                   Message("Delegated task is back: {task}", task=row.name, process_key=row.process_key),
                   Message(finished, user=actor.username, comment=comment))
        row.assignee, row.owner, row.delegation = row.owner, None, None
        return True
    if row.delegation == "signer_before" and approves(variables):
        ctx.record("task_signed", task_id=row.id, element_id=row.element_id, comment=comment,
                   data={"variables": variables, "returned_to": row.owner})
        ctx.notify([row.owner or ""], "task_returned",
                   Message("Signed, back to you: {task}", task=row.name, process_key=row.process_key), actor.username)
        row.approvals = [*(row.approvals or []), actor.username]
        row.assignee, row.owner, row.delegation = row.owner, None, None
        return True
    if row.signers_after and approves(variables):
        next_signer, *rest = row.signers_after
        ctx.record("task_signed", task_id=row.id, element_id=row.element_id, comment=comment,
                   data={"variables": variables, "next": next_signer})
        row.approvals = [*(row.approvals or []), actor.username]
        row.assignee, row.signers_after, row.owner, row.delegation = next_signer, rest, None, None
        row.urged_at = None  # the next signer was never urged
        ctx.notify([next_signer], "task_assigned",
                   Message("Please sign: {task}", task=row.name, process_key=row.process_key),
                   Message("after {user}", user=actor.username))
        return True
    return False
