"""Engine tables: deployments, versioned definitions, instances, projected tasks, history, subscriptions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base, JSONType, OptionalJSONType, utcnow


class Deployment(Base):
    """One upload: a set of BPMN, DMN and form files deployed together."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    files: Mapped[list[DeploymentFile]] = relationship(back_populates="deployment", cascade="all")


class DeploymentFile(Base):
    """The bytes of one deployed file, kept so any definition version can be re-parsed."""

    __tablename__ = "deployment_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)  # bpmn | dmn | form
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    deployment: Mapped[Deployment] = relationship(back_populates="files")

    __table_args__ = (Index("ix_deployment_file_kind_name", "kind", "name"),)


class ProcessDefinition(Base):
    """One version of one executable process (BPMN process id = key)."""

    __tablename__ = "process_definition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str | None] = mapped_column(String(255))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), nullable=False)
    bpmn_file: Mapped[str] = mapped_column(String(255), nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # element id -> ElementMeta dict (forms, assignment) for start events and human tasks
    elements: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    # form file name -> JSON schema, frozen at deploy time so running instances keep their forms
    forms: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    message_starts: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    # {"names": element id -> name, "translations": language -> English text -> text} (engine.flow_i18n)
    labels: Mapped[dict | None] = mapped_column(OptionalJSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    deployment: Mapped[Deployment] = relationship()

    __table_args__ = (UniqueConstraint("key", "version", name="uq_process_definition_key_version"),)


class ProcessInstance(Base):
    """A running or finished instance: serialized workflow state (no spec) plus indexed columns."""

    __tablename__ = "process_instance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True, nullable=False)
    process_key: Mapped[str] = mapped_column(String(255), index=True, nullable=False)
    status: Mapped[str] = mapped_column(String(20), index=True, nullable=False, default="running")
    business_key: Mapped[str | None] = mapped_column(String(255), index=True)
    started_by: Mapped[str | None] = mapped_column(String(100), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    next_timer_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    state: Mapped[str] = mapped_column(Text, nullable=False)
    variables: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    active_element_ids: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_element_id: Mapped[str | None] = mapped_column(String(255))
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    definition: Mapped[ProcessDefinition] = relationship()

    __mapper_args__ = {"version_id_col": lock_version}

    # Not a column: the open task rows as the engine's last command on this object left them, so that a
    # response can list them without reading them back after the commit. None until a command ran.
    open_task_rows = None


class Task(Base):
    """An open or finished human task, projected out of the instance state for indexed look-ups."""

    __tablename__ = "task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task id
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True, nullable=False)
    process_key: Mapped[str] = mapped_column(String(255), nullable=False)
    element_id: Mapped[str] = mapped_column(String(255), nullable=False)
    name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")
    assignee: Mapped[str | None] = mapped_column(String(100))
    candidate_users: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    candidate_groups: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    form: Mapped[str | None] = mapped_column(String(255))
    ui_form: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_by: Mapped[str | None] = mapped_column(String(100))
    # approver actions: whom a delegated / signer-before task returns to, and why
    owner: Mapped[str | None] = mapped_column(String(100))
    delegation: Mapped[str | None] = mapped_column(String(20))  # delegated | signer_before
    signers_after: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    approvals: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)  # who already approved
    urged_at: Mapped[datetime | None] = mapped_column(DateTime)
    # the applicant when the model did not give this task to them: they may not claim, work or receive it
    excluded_user: Mapped[str | None] = mapped_column(String(100))

    # candidate rows (TaskCandidate) are written by the engine with plain statements when a step saves
    instance: Mapped[ProcessInstance] = relationship()

    __table_args__ = (
        Index("ix_task_assignee_status", "assignee", "status"),
        Index("ix_task_status_created", "status", "created_at"),
    )


class TaskCandidate(Base):
    """One candidate user or group of a task, so `?candidate=me` is an index look-up."""

    __tablename__ = "task_candidate"

    task_id: Mapped[str] = mapped_column(ForeignKey("task.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(5), primary_key=True)  # user | group
    value: Mapped[str] = mapped_column(String(100), primary_key=True)

    __table_args__ = (Index("ix_task_candidate_kind_value", "kind", "value"),)


class HistoryEvent(Base):
    """Append-only history of an instance: who did what, when, with which comment and data."""

    __tablename__ = "history_event"
    # 我已处理 (requests I acted on): the events of one user and type, per instance, newest last — from the index alone
    __table_args__ = (Index("ix_history_event_user_type", "user", "type", "instance_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    type: Mapped[str] = mapped_column(String(40), nullable=False)
    user: Mapped[str | None] = mapped_column(String(100))
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(255))
    comment: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(OptionalJSONType)


class MessageSubscription(Base):
    """A message an instance is waiting for, so correlation is an index look-up."""

    __tablename__ = "message_subscription"

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)

    __table_args__ = (Index("ix_message_subscription_name", "name"),)


class IdempotentStart(Base):
    """Remembers which instance an `Idempotency-Key` created, per caller."""

    __tablename__ = "idempotent_start"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    caller: Mapped[str] = mapped_column(String(100), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    # SHA-256 of the first request (operation + canonical JSON body): the same key with another request is a 422
    request_hash: Mapped[str | None] = mapped_column(String(64))
    started: Mapped[bool | None] = mapped_column(Boolean)  # a message's first answer: did it start the instance

    __table_args__ = (UniqueConstraint("caller", "key", name="uq_idempotent_start_caller_key"),)


class InstanceViewer(Base):
    """Someone given read access to an instance (CC / 抄送) who has no task in it."""

    __tablename__ = "instance_viewer"

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    added_by: Mapped[str | None] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class VariableType(Base):
    """The declared type of an instance variable where its JSON value cannot tell it (Camunda's Long, Short and
    Date: an Integer-sized Long, a Date kept as ISO text), so engine-rest hands it back as it came in."""

    __tablename__ = "variable_type"

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(20), nullable=False)


class InstanceAttachment(Base):
    """A file attached to an instance; the bytes live on disk under the upload dir, named by `stored_name`."""

    __tablename__ = "instance_attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None: uploaded before its instance exists (a receipt), readable by its uploader only until claimed
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)  # a receipt claimed twice
    stored_name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    uploaded_by: Mapped[str] = mapped_column(String(100), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class Webhook(Base):
    """An integrator's webhook: engine events are POSTed to `url`, signed with HMAC-SHA256 of `secret`."""

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(1000), nullable=False)
    events: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)  # [] = every event
    secret: Mapped[str] = mapped_column(String(100), nullable=False)
    created_by: Mapped[str] = mapped_column(String(100), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class WebhookDelivery(Base):
    """One event queued for one webhook; a background sender delivers it after the transaction commits."""

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id"), index=True, nullable=False)
    event: Mapped[str] = mapped_column(String(100), nullable=False)
    payload: Mapped[dict] = mapped_column(JSONType, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_response_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class InstanceReference(Base):
    """A record an instance names through a typed form field (`x-oaflow-ref`), recorded when the data came in:
    open tasks of the instance grant read access to it, and it answers "which flows touch this record"."""

    __tablename__ = "instance_reference"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True,
                                             nullable=False)
    ref_type: Mapped[str] = mapped_column(String(40), nullable=False)
    ref_id: Mapped[str] = mapped_column(String(100), nullable=False)
    field: Mapped[str] = mapped_column(String(100), nullable=False)

    __table_args__ = (Index("ix_instance_reference_ref", "ref_type", "ref_id"),)


class RecordClaim(Base):
    """A running instance's exclusive hold on a record (`x-oaflow-ref-exclusive`): the primary key lets one
    running instance per (record, purpose) exist, on every database; released when the instance ends."""

    __tablename__ = "record_claim"

    ref_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    ref_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(255), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True,
                                             nullable=False)
    field: Mapped[str] = mapped_column(String(100), nullable=False)


class ExternalTask(Base):
    """A service task with camunda:type="external" that the engine reached: it waits, on its topic, for an
    external worker to fetch and lock it and then complete it, fail it or throw a BPMN error."""

    __tablename__ = "external_task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task id
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True, nullable=False)
    process_key: Mapped[str] = mapped_column(String(255), nullable=False)
    element_id: Mapped[str] = mapped_column(String(255), nullable=False)
    topic: Mapped[str] = mapped_column(String(255), nullable=False)
    worker_id: Mapped[str | None] = mapped_column(String(255))
    lock_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    retries: Mapped[int | None] = mapped_column(Integer)  # None until a worker first reports a failure
    error_message: Mapped[str | None] = mapped_column(Text)
    error_details: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    variables: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)  # snapshot when reached
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    __table_args__ = (Index("ix_external_task_topic_lock", "topic", "lock_expires_at"),)
