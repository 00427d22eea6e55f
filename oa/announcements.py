"""Announcements: published from publish_at until expire_at to everyone or to departments (and their
sub-departments), with read tracking. Admins address anyone; department heads address their own subtrees."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from oa.models import Department, User
from oa.org import department_chain
from oa.record_models import Announcement, AnnouncementRead, announcement_department
from store.base import utcnow
from store.errors import Forbidden, InvalidData, NotFound


def _subtree(session: Session, root_ids: set[int]) -> set[int]:
    found, frontier = set(root_ids), set(root_ids)
    while frontier:
        frontier = set(session.scalars(select(Department.id).where(Department.parent_id.in_(frontier)))) - found
        found |= frontier
    return found


def headed_subtree(session: Session, user: User) -> set[int]:
    """Ids of the departments `user` heads and everything below them."""
    return _subtree(session, set(session.scalars(select(Department.id).where(Department.head_id == user.id,
                                                                             Department.active.is_(True)))))


def create_announcement(session: Session, author: User, data: dict[str, Any]) -> Announcement:
    """Publish an announcement: title, body, publish_at?, expire_at?, departments (ids; empty = everyone)."""
    headed = headed_subtree(session, author)
    if not author.has_role("admin") and not headed:
        raise Forbidden("only admins and department heads may publish announcements")
    publish_at = data.get("publish_at") or utcnow()
    expire_at = data.get("expire_at")
    if expire_at is not None and expire_at <= publish_at:
        raise InvalidData("the announcement expires before it is published",
                          errors=[{"field": "expire_at", "message": "must be after publish_at"}])
    dept_ids = list(dict.fromkeys(data.get("departments") or []))
    departments = list(session.scalars(select(Department).where(Department.id.in_(dept_ids)))) if dept_ids else []
    missing = set(dept_ids) - {d.id for d in departments}
    if missing:
        raise InvalidData("unknown departments", errors=[{"field": "departments", "message": f"no department {m}"}
                                                         for m in sorted(missing)])
    if not author.has_role("admin"):
        if not departments:
            raise InvalidData("department heads address their own departments",
                              errors=[{"field": "departments", "message": "required for department heads"}])
        outside = [d.id for d in departments if d.id not in headed]
        if outside:
            raise Forbidden(f"you do not head department(s) {', '.join(map(str, outside))}")
    row = Announcement(title=data["title"], body=data.get("body") or "", author=author.username,
                       audience_all=not departments, publish_at=publish_at, expire_at=expire_at,
                       created_at=utcnow())
    row.departments = departments
    session.add(row)
    session.flush()
    return row


def _visible_filter(user: User, now: datetime):  # noqa: ANN202
    depts = department_chain(user)
    in_audience = Announcement.audience_all.is_(True)
    if depts:
        in_audience = or_(in_audience, exists().where(
            announcement_department.c.announcement_id == Announcement.id,
            announcement_department.c.department_id.in_(depts)))
    return (Announcement.publish_at <= now) & or_(Announcement.expire_at.is_(None),
                                                  Announcement.expire_at > now) & in_audience


def visible_query(user: User, now: datetime | None = None, unread_only: bool = False) -> Select:
    """Announcements `user` may read now (published, not expired, in the audience), newest first."""
    query = select(Announcement).where(_visible_filter(user, now or utcnow()))
    if unread_only:
        query = query.where(~exists().where(AnnouncementRead.announcement_id == Announcement.id,
                                            AnnouncementRead.user == user.username))
    return query.order_by(Announcement.publish_at.desc(), Announcement.id.desc())


def authored_query(user: User) -> Select:
    """Announcements `user` wrote (admins: all), including scheduled and expired ones."""
    query = select(Announcement)
    if not user.has_role("admin"):
        query = query.where(Announcement.author == user.username)
    return query.order_by(Announcement.created_at.desc(), Announcement.id.desc())


def _get(session: Session, user: User, announcement_id: int) -> Announcement:
    row = session.get(Announcement, announcement_id)
    if row is None:
        raise NotFound(f"no announcement {announcement_id}")
    if row.author == user.username or user.has_role("admin"):
        return row
    if session.scalar(select(Announcement.id).where(Announcement.id == row.id,
                                                    _visible_filter(user, utcnow()))) is None:
        raise NotFound(f"no announcement {announcement_id}")
    return row


def get_announcement(session: Session, user: User, announcement_id: int) -> Announcement:
    """One announcement the user may read (its author and admins always; others while visible)."""
    return _get(session, user, announcement_id)


def mark_read(session: Session, user: User, announcement_id: int) -> AnnouncementRead:
    """Record that `user` read it (idempotent: the first time stays)."""
    row = _get(session, user, announcement_id)
    read = session.get(AnnouncementRead, (row.id, user.username))
    if read is None:
        read = AnnouncementRead(announcement_id=row.id, user=user.username, read_at=utcnow())
        session.add(read)
        session.flush()
    return read


def read_usernames(session: Session, username: str, ids: list[int]) -> set[int]:
    """Which of `ids` the user has read."""
    if not ids:
        return set()
    return set(session.scalars(select(AnnouncementRead.announcement_id).where(
        AnnouncementRead.user == username, AnnouncementRead.announcement_id.in_(ids))))


def readers(session: Session, viewer: User, announcement_id: int) -> dict[str, list]:
    """{read: [{user, read_at}], unread: [usernames]} over the audience (author or admin only)."""
    row = _get(session, viewer, announcement_id)
    if row.author != viewer.username and not viewer.has_role("admin"):
        raise Forbidden("only the author or an admin may see who read an announcement")
    query = select(User).where(User.active.is_(True)).order_by(User.username)
    if not row.audience_all:
        query = query.where(User.department_id.in_(_subtree(session, {d.id for d in row.departments})))
    audience = [u.username for u in session.scalars(query) if not u.has_role("integrator")]
    reads = {r.user: r.read_at for r in session.scalars(select(AnnouncementRead).where(
        AnnouncementRead.announcement_id == row.id))}
    return {"read": [{"user": name, "read_at": reads[name].isoformat()} for name in sorted(reads)],
            "unread": [name for name in audience if name not in reads]}
