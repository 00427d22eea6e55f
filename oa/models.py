"""Organisation records: users, departments (a tree with heads), groups, and integrator API keys."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Integer, String, Table, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base, JSONType, utcnow

ROLES = ("admin", "designer", "employee", "integrator")

user_group = Table(
    "user_group",
    Base.metadata,
    Column("user_id", ForeignKey("user_account.id"), primary_key=True),
    Column("group_id", ForeignKey("user_group_def.id"), primary_key=True, index=True),
)


class Department(Base):
    """A department; departments form a tree and each may have a head."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    head_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", use_alter=True))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())

    parent: Mapped[Department | None] = relationship(remote_side="Department.id")
    head: Mapped[User | None] = relationship(foreign_keys=[head_id])


class Group(Base):
    """A named group of users; BPMN lanes and candidate groups name these."""

    __tablename__ = "user_group_def"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)

    members: Mapped[list[User]] = relationship(secondary=user_group, back_populates="groups")


class User(Base):
    """A person or service account that can log in or call the API."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    roles: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    token_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    # web sessions carry this epoch; logging out bumps it, so a copied session cookie dies with the logout
    session_epoch: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    start_date: Mapped[date | None] = mapped_column(Date)  # hire date: no absences before it

    manager: Mapped[User | None] = relationship(remote_side="User.id", foreign_keys=[manager_id])
    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    groups: Mapped[list[Group]] = relationship(secondary=user_group, back_populates="members")

    def has_role(self, *roles: str) -> bool:
        """True if the user holds any of `roles`."""
        return any(r in (self.roles or []) for r in roles)


class LoginFailure(Base):
    """Failed logins of one client address for one account (oa.lockout): a lock here stops that client only."""

    __tablename__ = "login_failure"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class ApiKey(Base):
    """An integrator's API key: only a SHA-256 of the secret is stored; the prefix finds the row."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # the key may start flows on behalf of a named employee (`started_by`): `oaflow api-key create --act-as`
    act_as: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    # what the key may do (api.key_scopes): [] = everything its user may do
    scopes: Mapped[list] = mapped_column(JSONType, nullable=False, default=list, server_default="[]")
    # the API key that created this one (None: a password or web session did): a key revokes only its own
    created_by_key_id: Mapped[int | None] = mapped_column(Integer, index=True)

    user: Mapped[User] = relationship()


class AdminAuditEntry(Base):
    """One administration change (oa.admin_audit): who changed which user, department, group, API key or
    webhook, and how (field: [old, new]); never a secret — those read "set" or "changed"."""

    __tablename__ = "admin_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    actor: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    object_type: Mapped[str] = mapped_column(String(20), nullable=False)
    object_id: Mapped[int] = mapped_column(Integer, nullable=False)
    object_name: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    changes: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    summary: Mapped[str] = mapped_column(String(2000), nullable=False, default="")


class NotificationChannel(Base):
    """Where a user's (or a group's members') notifications go besides the in-app inbox: an e-mail address
    or a group robot (WeCom, DingTalk, Feishu). A robot's signing secret is kept to sign and never shown."""

    __tablename__ = "notification_channel"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_user: Mapped[str | None] = mapped_column(String(100), index=True)
    owner_group: Mapped[str | None] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # email | wecom | dingtalk | feishu
    target: Mapped[str] = mapped_column(String(1000), nullable=False)
    secret: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(100), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class ChannelDelivery(Base):
    """One notification queued for one channel in the step's transaction; the scheduler sends it."""

    __tablename__ = "channel_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("notification_channel.id"), index=True, nullable=False)
    user: Mapped[str] = mapped_column(String(100), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


from oa import record_models  # noqa: E402, F401  (register the OA record tables with the metadata)
