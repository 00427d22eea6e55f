"""OA record tables: notifications, attendance, announcements, documents, calendar and forum.

Users are referred to by username (the identifier processes and the API use everywhere); departments by id.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base, JSONType, OptionalJSONType, utcnow


# --------------------------------------------------------------------------- notifications
class Notification(Base):
    """One message in a user's in-app inbox."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read_at", "user", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user: Mapped[str] = mapped_column(String(100), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # {"title": {"key", "params"}, "body": {...}}: rendered in the reader's language (store.messages); rows
    # written before it (None) show their English title and body
    message: Mapped[dict | None] = mapped_column(OptionalJSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)


# --------------------------------------------------------------------------- attendance
class ShiftRule(Base):
    """Working hours: a shift start/end (local time in `timezone`), grace minutes and work days (0=Mon)."""

    __tablename__ = "shift_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    start_time: Mapped[time] = mapped_column(Time, nullable=False)
    end_time: Mapped[time] = mapped_column(Time, nullable=False)
    grace_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    work_days: Mapped[list] = mapped_column(JSONType, nullable=False, default=lambda: [0, 1, 2, 3, 4])
    # an IANA zone, or "company": the company time zone (OAFLOW_TIMEZONE, store.clock)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="company")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class AttendanceRecord(Base):
    """One shift: clock-in and (once closed) clock-out, server time in naive UTC; work_date is local."""

    __tablename__ = "attendance_record"
    __table_args__ = (
        Index("ix_attendance_record_user_day_times", "user", "work_date", "clock_in", "clock_out"),
        # at most one open shift per user, enforced by the database even under concurrent clock-ins
        Index("uq_attendance_record_open_shift", "user", unique=True,
              sqlite_where=text("clock_out IS NULL"), postgresql_where=text("clock_out IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user: Mapped[str] = mapped_column(String(100), nullable=False)
    work_date: Mapped[date] = mapped_column(Date, nullable=False)
    clock_in: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    clock_out: Mapped[datetime | None] = mapped_column(DateTime)


class LeaveRecord(Base):
    """A day of approved leave (written by the leave process through `oa.record_leave`)."""

    __tablename__ = "leave_record"
    __table_args__ = (UniqueConstraint("user", "date", name="uq_leave_record_user_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user: Mapped[str] = mapped_column(String(100), nullable=False)
    date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    leave_type: Mapped[str] = mapped_column(String(40), nullable=False)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # None: the whole day; "am" / "pm": only that half of the day is leave
    half: Mapped[str | None] = mapped_column(String(2))


# --------------------------------------------------------------------------- announcements
announcement_department = Table(
    "announcement_department",
    Base.metadata,
    Column("announcement_id", ForeignKey("announcement.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id"), primary_key=True, index=True),
)


class Announcement(Base):
    """A notice shown from publish_at until expire_at to everyone or to listed departments."""

    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    author: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    audience_all: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    publish_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)
    expire_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    departments = relationship("Department", secondary=announcement_department)


class AnnouncementRead(Base):
    """Who read an announcement, and when."""

    __tablename__ = "announcement_read"

    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcement.id", ondelete="CASCADE"),
                                                 primary_key=True)
    user: Mapped[str] = mapped_column(String(100), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


# --------------------------------------------------------------------------- documents
document_department = Table(
    "document_department",
    Base.metadata,
    Column("document_id", ForeignKey("document.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id"), primary_key=True, index=True),
)


class DocumentFolder(Base):
    """A folder; folders nest."""

    __tablename__ = "document_folder"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_document_folder_parent_id_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("document_folder.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class Document(Base):
    """A document (its bytes live in versions); visible to all, or to its owner and listed departments."""

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    folder_id: Mapped[int | None] = mapped_column(ForeignKey("document_folder.id"), index=True)
    owner: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    visible_to_all: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    departments = relationship("Department", secondary=document_department)
    versions: Mapped[list[DocumentVersion]] = relationship(order_by="DocumentVersion.version",
                                                           back_populates="document")


class DocumentVersion(Base):
    """One uploaded version: stored on disk under a random name; the client's name is metadata only."""

    __tablename__ = "document_version"
    __table_args__ = (UniqueConstraint("document_id", "version", name="uq_document_version_document_id_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    storage_name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_by: Mapped[str] = mapped_column(String(100), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    document: Mapped[Document] = relationship(back_populates="versions")


# --------------------------------------------------------------------------- calendar
class CalendarEvent(Base):
    """An event in the owner's calendar (meetings, approved leave, customer visits)."""

    __tablename__ = "calendar_event"
    __table_args__ = (Index("ix_calendar_event_owner_start_at", "owner", "start_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(100), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    location: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default="event")
    start_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    end_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    source_instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    attendees: Mapped[list[EventAttendee]] = relationship(cascade="all, delete-orphan")
    reminders: Mapped[list[EventReminder]] = relationship(cascade="all, delete-orphan")


class EventAttendee(Base):
    """An invited user."""

    __tablename__ = "event_attendee"

    event_id: Mapped[int] = mapped_column(ForeignKey("calendar_event.id", ondelete="CASCADE"), primary_key=True)
    user: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class EventReminder(Base):
    """A reminder due at remind_at for one user; sent_at is set exactly once by whoever claims it."""

    __tablename__ = "event_reminder"
    __table_args__ = (Index("ix_event_reminder_sent_at_remind_at", "sent_at", "remind_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("calendar_event.id", ondelete="CASCADE"), nullable=False,
                                          index=True)
    user: Mapped[str] = mapped_column(String(100), nullable=False)
    minutes_before: Mapped[int] = mapped_column(Integer, nullable=False)
    remind_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


# --------------------------------------------------------------------------- forum
class ForumBoard(Base):
    """A forum board."""

    __tablename__ = "forum_board"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class ForumThread(Base):
    """A thread on a board; its first post is the opening message. Admins lock or hide threads."""

    __tablename__ = "forum_thread"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("forum_board.id"), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    author: Mapped[str] = mapped_column(String(100), nullable=False)
    locked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    last_post_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class ForumPost(Base):
    """A post in a thread."""

    __tablename__ = "forum_post"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("forum_thread.id"), nullable=False, index=True)
    author: Mapped[str] = mapped_column(String(100), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    hidden: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


# --------------------------------------------------------------------------- company calendar
class Holiday(Base):
    """A dated exception to the working week: a public holiday (`holiday`, no work even on a weekday) or a
    make-up working day (`workday`, 调休: work even on a weekend day). Other days follow the shift rule."""

    __tablename__ = "holiday"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[date] = mapped_column(Date, unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
