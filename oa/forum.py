"""Forum: boards, threads and replies; @mentions notify the people named; admins lock and hide."""

from __future__ import annotations

import re

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from oa.models import User
from oa.notifications import notify
from oa.record_models import ForumBoard, ForumPost, ForumThread
from store.base import utcnow
from store.errors import Conflict, Forbidden, InvalidData, NotFound
from store.messages import Message

MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_][A-Za-z0-9_.-]{0,99})")
MAX_MENTIONS = 20


def _admin(user: User) -> bool:
    return user.has_role("admin")


def boards_query() -> Select:
    """All boards by name."""
    return select(ForumBoard).order_by(ForumBoard.name)


def create_board(session: Session, user: User, name: str, description: str = "") -> ForumBoard:
    """A new board (admin)."""
    if not _admin(user):
        raise Forbidden("only admins create boards")
    if session.scalar(select(ForumBoard.id).where(ForumBoard.name == name.strip())) is not None:
        raise Conflict(f"a board named {name!r} exists")
    board = ForumBoard(name=name.strip(), description=description or "", created_at=utcnow())
    session.add(board)
    session.flush()
    return board


def get_board(session: Session, board_id: int) -> ForumBoard:
    """A board (404 if unknown)."""
    board = session.get(ForumBoard, board_id)
    if board is None:
        raise NotFound(f"no board {board_id}")
    return board


def threads_query(session: Session, user: User, board_id: int) -> Select:
    """Threads of a board, most recent activity first; hidden ones only for admins."""
    get_board(session, board_id)
    query = select(ForumThread).where(ForumThread.board_id == board_id)
    if not _admin(user):
        query = query.where(ForumThread.hidden.is_(False))
    return query.order_by(ForumThread.last_post_at.desc(), ForumThread.id.desc())


def get_thread(session: Session, user: User, thread_id: int) -> ForumThread:
    """A thread the user may see (hidden threads: admins only, 404 for others)."""
    thread = session.get(ForumThread, thread_id)
    if thread is None or (thread.hidden and not _admin(user)):
        raise NotFound(f"no thread {thread_id}")
    return thread


def posts_of(session: Session, user: User, thread: ForumThread) -> list[ForumPost]:
    """The thread's posts in order; hidden ones only for admins."""
    query = select(ForumPost).where(ForumPost.thread_id == thread.id)
    if not _admin(user):
        query = query.where(ForumPost.hidden.is_(False))
    return list(session.scalars(query.order_by(ForumPost.created_at, ForumPost.id)))


def _mention(session: Session, author: User, thread: ForumThread, post: ForumPost) -> list[str]:
    names = list(dict.fromkeys(m.rstrip(".") for m in MENTION.findall(post.body)))[:MAX_MENTIONS]
    if not names:
        return []
    found = list(session.scalars(select(User.username).where(User.username.in_(names), User.active.is_(True))))
    notified = []
    for name in found:
        if name != author.username:
            notify(session, name, "mention",
                   Message("{user} mentioned you in “{title}”", user=author.username, title=thread.title),
                   body=post.body[:500], link=f"/forum/threads/{thread.id}#post-{post.id}")
            notified.append(name)
    return sorted(notified)


def create_thread(session: Session, user: User, board_id: int, title: str, body: str) -> tuple[ForumThread, list]:
    """Open a thread with its first post; returns the thread and who was mentioned."""
    board = get_board(session, board_id)
    if not title.strip() or not body.strip():
        raise InvalidData("title and body are required",
                          errors=[{"field": f, "message": "required"} for f, v in (("title", title), ("body", body))
                                  if not v.strip()])
    now = utcnow()
    thread = ForumThread(board_id=board.id, title=title.strip(), author=user.username, created_at=now,
                         last_post_at=now, locked=False, hidden=False)
    session.add(thread)
    session.flush()
    post = ForumPost(thread_id=thread.id, author=user.username, body=body, created_at=now, hidden=False)
    session.add(post)
    session.flush()
    return thread, _mention(session, user, thread, post)


def reply(session: Session, user: User, thread_id: int, body: str) -> tuple[ForumPost, list]:
    """Reply to a thread (409 if locked); returns the post and who was mentioned."""
    thread = get_thread(session, user, thread_id)
    if thread.locked:
        raise Conflict("the thread is locked")
    if not body.strip():
        raise InvalidData("a body is required", errors=[{"field": "body", "message": "required"}])
    post = ForumPost(thread_id=thread.id, author=user.username, body=body, created_at=utcnow(), hidden=False)
    session.add(post)
    thread.last_post_at = post.created_at
    session.flush()
    return post, _mention(session, user, thread, post)


def moderate_thread(session: Session, user: User, thread_id: int, *, locked: bool | None = None,
                    hidden: bool | None = None) -> ForumThread:
    """Lock/unlock or hide/unhide a thread (admin)."""
    if not _admin(user):
        raise Forbidden("only admins moderate the forum")
    thread = get_thread(session, user, thread_id)
    if locked is not None:
        thread.locked = locked
    if hidden is not None:
        thread.hidden = hidden
    session.flush()
    return thread


def moderate_post(session: Session, user: User, post_id: int, hidden: bool) -> ForumPost:
    """Hide or unhide a post (admin)."""
    if not _admin(user):
        raise Forbidden("only admins moderate the forum")
    post = session.get(ForumPost, post_id)
    if post is None:
        raise NotFound(f"no post {post_id}")
    post.hidden = hidden
    session.flush()
    return post
