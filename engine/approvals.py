"""Approver actions as OA users know them: transfer, delegate, add signer, return, CC, urge, batch
approve and withdraw. Each runs through the engine's command executor and lands in history."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import HistoryEvent, InstanceViewer, ProcessInstance, Task
from engine.serialization import load_state
from store.base import utcnow
from store.errors import Conflict, DomainError, Forbidden, InvalidData, NotFound

if TYPE_CHECKING:
    from engine.runtime import Actor, _Context

URGE_INTERVAL = timedelta(minutes=10)
ACTED_EVENTS = ("task_completed", "task_transferred", "task_delegated", "task_resolved", "task_signed",
                "task_returned", "signer_added")


def _approves(variables: dict) -> bool:
    """A submission approves unless it says `approved: false`."""
    return variables.get("approved", True) is not False


class ApproverActions:
    """Mixed into Engine: every method is one command (one locked transaction)."""

    # -- helpers -----------------------------------------------------------------------------------
    def _task_command(self, session: Session, task_id: str, actor: Actor, act: Any) -> Task:
        row = self._open_task(session, task_id)  # type: ignore[attr-defined]
        self.check_task_access(session, row, actor)  # type: ignore[attr-defined]

        def action(ctx: _Context) -> Task:
            fresh = ctx.task
            if fresh.status != "open":
                raise Conflict(f"task {task_id} is already {fresh.status}")
            return act(ctx, fresh)
        return self._command(session, row.instance_id, actor, action,  # type: ignore[attr-defined]
                             task_id=task_id)

    def _require_user(self, session: Session, username: Any, field: str) -> str:
        if not isinstance(username, str) or not self.directory(session).user_exists(username):  # type: ignore[attr-defined]
            raise InvalidData(f"no active user '{username}'", errors=[{"field": field, "message": "unknown user"}])
        return username

    def _must_work(self, row: Task, actor: Actor) -> None:
        self._check_may_work(row, actor)  # type: ignore[attr-defined]

    @staticmethod
    def _refuse_applicant(row: Task, user: str, field: str) -> None:
        """No hand-over may give a task to the applicant of its own request (see Engine._apply_rules)."""
        if row.excluded_user and user == row.excluded_user:
            raise InvalidData(f"{user} is the applicant of this request and cannot work this task",
                              errors=[{"field": field, "message": "is the applicant of this request"}])

    # -- transfer / delegate / add signer -----------------------------------------------------------
    def transfer(self, session: Session, task_id: str, actor: Actor, to: str, comment: str | None = None) -> Task:
        """转交: hand the task to someone else for good."""
        self._require_user(session, to, "to")
        if to == actor.username:
            raise InvalidData("cannot transfer a task to yourself", errors=[{"field": "to", "message": "is you"}])

        def act(ctx: _Context, row: Task) -> Task:
            self._must_work(row, actor)
            self._refuse_applicant(row, to, "to")
            previous = row.assignee
            row.assignee, row.owner, row.delegation = to, None, None
            ctx.record("task_transferred", task_id=row.id, element_id=row.element_id, comment=comment,
                       data={"from": previous or actor.username, "to": to})
            ctx.notify([to], "task_assigned", f"Task transferred to you: {row.name}",
                       f"from {actor.username}" + (f": {comment}" if comment else ""))
            return row
        return self._task_command(session, task_id, actor, act)

    def delegate(self, session: Session, task_id: str, actor: Actor, to: str, comment: str | None = None) -> Task:
        """委派: someone else works the task, then it comes back to the delegator to finish."""
        self._require_user(session, to, "to")
        if to == actor.username:
            raise InvalidData("cannot delegate a task to yourself", errors=[{"field": "to", "message": "is you"}])

        def act(ctx: _Context, row: Task) -> Task:
            self._must_work(row, actor)
            self._refuse_applicant(row, to, "to")
            if row.delegation:
                raise Conflict("this task is already out with someone else; wait for it to come back")
            row.owner, row.assignee, row.delegation = actor.username, to, "delegated"
            ctx.record("task_delegated", task_id=row.id, element_id=row.element_id, comment=comment,
                       data={"from": actor.username, "to": to})
            ctx.notify([to], "task_assigned", f"Task delegated to you: {row.name}", f"by {actor.username}")
            return row
        return self._task_command(session, task_id, actor, act)

    def add_signer(self, session: Session, task_id: str, actor: Actor, user: str, position: str) -> Task:
        """加签: another approver signs before me (then it returns to me) or after me (before the flow moves on)."""
        self._require_user(session, user, "user")
        if position not in ("before", "after"):
            raise InvalidData("position must be 'before' or 'after'",
                              errors=[{"field": "position", "message": "must be before or after"}])
        if user == actor.username:
            raise InvalidData("cannot add yourself as a signer", errors=[{"field": "user", "message": "is you"}])

        def act(ctx: _Context, row: Task) -> Task:
            self._must_work(row, actor)
            self._refuse_applicant(row, user, "user")
            if row.delegation:
                raise Conflict("this task is already out with someone else; wait for it to come back")
            if position == "before":
                row.owner, row.assignee, row.delegation = actor.username, user, "signer_before"
                ctx.notify([user], "task_assigned", f"Please sign first: {row.name}", f"for {actor.username}")
            else:
                if user in (row.signers_after or []):
                    raise Conflict(f"{user} already signs after this step")
                row.assignee = row.assignee or actor.username
                row.signers_after = [*(row.signers_after or []), user]
            ctx.record("signer_added", task_id=row.id, element_id=row.element_id,
                       data={"user": user, "position": position})
            return row
        return self._task_command(session, task_id, actor, act)

    def intercept_completion(self, ctx: _Context, row: Task, actor: Actor, variables: dict,
                             comment: str | None) -> bool:
        """Completions that do not move the flow: a delegate resolving, a signer signing, a signer queue.

        Returns True if the completion was handled here (the BPMN task stays open).
        """
        if row.delegation == "delegated":
            ctx.record("task_resolved", task_id=row.id, element_id=row.element_id, comment=comment,
                       data={"variables": variables, "returned_to": row.owner})
            ctx.notify([row.owner or ""], "task_returned", f"Delegated task is back: {row.name}",
                       f"{actor.username} has finished" + (f": {comment}" if comment else ""))
            row.assignee, row.owner, row.delegation = row.owner, None, None
            return True
        if row.delegation == "signer_before" and _approves(variables):
            ctx.record("task_signed", task_id=row.id, element_id=row.element_id, comment=comment,
                       data={"variables": variables, "returned_to": row.owner})
            ctx.notify([row.owner or ""], "task_returned", f"Signed, back to you: {row.name}", actor.username)
            row.approvals = [*(row.approvals or []), actor.username]
            row.assignee, row.owner, row.delegation = row.owner, None, None
            return True
        if row.signers_after and _approves(variables):
            next_signer, *rest = row.signers_after
            ctx.record("task_signed", task_id=row.id, element_id=row.element_id, comment=comment,
                       data={"variables": variables, "next": next_signer})
            row.approvals = [*(row.approvals or []), actor.username]
            row.assignee, row.signers_after, row.owner, row.delegation = next_signer, rest, None, None
            ctx.notify([next_signer], "task_assigned", f"Please sign: {row.name}", f"after {actor.username}")
            return True
        return False

    # -- return (退回) ---------------------------------------------------------------------------------
    def return_targets(self, session: Session, task_id: str, actor: Actor) -> list[dict]:
        """Earlier user-task nodes this instance passed, oldest first (where 退回 may send it)."""
        row = self._open_task(session, task_id)  # type: ignore[attr-defined]
        self.check_task_access(session, row, actor)  # type: ignore[attr-defined]
        done = session.execute(
            select(Task.element_id, Task.name).where(Task.instance_id == row.instance_id, Task.status == "completed",
                                                     Task.element_id != row.element_id)
            .order_by(Task.completed_at, Task.created_at)).all()
        seen: dict[str, str | None] = {}
        for element_id, name in done:
            seen.setdefault(element_id, name)
        # only steps whose run is still in the state (a return that went back a round may have undone the
        # last run of a step whose earlier runs were pruned as finished loop iterations)
        inst = session.get(ProcessInstance, row.instance_id)
        loaded = self.specs.for_id(session, inst.definition_id)  # type: ignore[attr-defined]
        workflow = load_state(inst.state, loaded.spec, loaded.subprocess_specs)
        in_state = {t.task_spec.bpmn_id for t in self._tasks(workflow, TaskState.COMPLETED)}  # type: ignore[attr-defined]
        return [{"element_id": e, "name": n} for e, n in seen.items() if e in in_state]

    def return_to(self, session: Session, task_id: str, actor: Actor, target_element_id: str,
                  comment: str | None = None) -> ProcessInstance:
        """退回: send the instance back to an earlier user task; everything after it is undone."""
        targets = {t["element_id"] for t in self.return_targets(session, task_id, actor)}
        if target_element_id not in targets:
            raise InvalidData(f"'{target_element_id}' is not an earlier step of this instance",
                              errors=[{"field": "target_element_id", "message": "not a return target"}])

        def act(ctx: _Context, row: Task) -> ProcessInstance:
            self._must_work(row, actor)
            wf = ctx.workflow
            candidates = [t for t in self._tasks(wf, TaskState.COMPLETED)  # type: ignore[attr-defined]
                          if t.task_spec.bpmn_id == target_element_id]
            if not candidates:
                raise Conflict(f"step '{target_element_id}' can no longer be returned to")
            target = max(candidates, key=lambda t: t.last_state_change)
            wf.reset_from_task_id(target.id)
            ctx.record("task_returned", task_id=row.id, element_id=row.element_id, comment=comment,
                       data={"to": target_element_id})
            return ctx.instance
        self._task_command(session, task_id, actor, act)
        return session.get(ProcessInstance, self._open_task(session, task_id).instance_id)  # type: ignore[attr-defined]

    # -- CC, urge ---------------------------------------------------------------------------------------
    def cc(self, session: Session, instance_id: int, actor: Actor, users: list[str],
           task_id: str | None = None) -> list[str]:
        """抄送: let people read the instance and tell them about it."""
        if not isinstance(users, list) or not users:
            raise InvalidData("name at least one user", errors=[{"field": "users", "message": "must not be empty"}])
        for i, user in enumerate(users):
            self._require_user(session, user, f"users/{i}")

        def action(ctx: _Context) -> list[str]:
            added = []
            for user in dict.fromkeys(users):
                if session.get(InstanceViewer, (instance_id, user)) is None:
                    session.add(InstanceViewer(instance_id=instance_id, username=user, added_by=actor.username))
                    added.append(user)
            ctx.record("cc", task_id=task_id, data={"users": list(dict.fromkeys(users))})
            ctx.notify(added, "cc", f"For your information: {ctx.loaded.name or ctx.instance.process_key} "
                       f"#{instance_id}", f"from {actor.username}")
            return added
        return self._command(session, instance_id, actor, action, require_running=False)  # type: ignore[attr-defined]

    def urge(self, session: Session, task_id: str, actor: Actor) -> Task:
        """催办: remind the people a task waits for (the applicant or an admin; once per 10 minutes)."""
        row = self._open_task(session, task_id)  # type: ignore[attr-defined]
        inst = session.get(ProcessInstance, row.instance_id)
        if not (actor.is_admin or inst.started_by == actor.username):
            self.check_task_access(session, row, actor)  # type: ignore[attr-defined]
            raise Forbidden("only the applicant or an admin can urge this task")

        def act(ctx: _Context, fresh: Task) -> Task:
            now = utcnow()
            if fresh.urged_at and now - fresh.urged_at < URGE_INTERVAL:
                raise Conflict("this task was urged less than 10 minutes ago")
            fresh.urged_at = now
            people = self.people_of(fresh, self.directory(session))  # type: ignore[attr-defined]
            ctx.record("urged", task_id=fresh.id, element_id=fresh.element_id, data={"notified": sorted(people)})
            ctx.notify(people, "urge", f"Reminder: {fresh.name} is waiting for you",
                       f"{actor.username} is waiting on {ctx.instance.process_key} #{ctx.instance.id}")
            return fresh
        return self._task_command(session, task_id, actor, act)

    # -- batch, withdraw --------------------------------------------------------------------------------
    def batch_complete(self, session: Session, task_ids: list[str], actor: Actor, variables: dict,
                       comment: str | None = None) -> list[dict]:
        """Complete several tasks with the same data; each succeeds or fails on its own."""
        results = []
        for task_id in dict.fromkeys(task_ids):
            try:
                self.complete(session, task_id, actor, dict(variables), comment)  # type: ignore[attr-defined]
                results.append({"task_id": task_id, "status": 200})
            except DomainError as err:
                results.append({"task_id": task_id, "status": err.status, "detail": err.detail,
                                **({"errors": err.errors} if err.errors else {})})
        return results

    def withdraw(self, session: Session, instance_id: int, actor: Actor, reason: str | None = None) -> ProcessInstance:
        """撤回: the applicant takes the request back while no approver has acted on it (409 after)."""
        inst = session.get(ProcessInstance, instance_id)
        if inst is None:
            raise NotFound(f"no process instance {instance_id}")
        if inst.started_by != actor.username:
            raise Forbidden("only the applicant can withdraw a request")

        def action(ctx: _Context) -> ProcessInstance:
            acted = session.scalar(select(HistoryEvent.id).where(
                HistoryEvent.instance_id == instance_id, HistoryEvent.type.in_(ACTED_EVENTS),
                HistoryEvent.user.is_not(None), HistoryEvent.user != actor.username).limit(1))
            if acted is not None:
                raise Conflict("an approver has already acted on this request; it can no longer be withdrawn")
            ctx.workflow.cancel()
            ctx.instance.status, ctx.instance.ended_at = "cancelled", utcnow()
            ctx.record("withdrawn", comment=reason, closing=True)
            return ctx.instance
        return self._command(session, instance_id, actor, action)  # type: ignore[attr-defined]


