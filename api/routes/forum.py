"""Forum: boards, threads, replies with @mentions, and admin moderation (lock, hide)."""

from __future__ import annotations

from flask import Blueprint
from marshmallow import fields, validate

from api.auth import current_user, login_required
from api.extensions import db
from api.http import json_body, paginate, query_args
from api.schemas import PageArgs, Strict
from engine.runtime import begin_write
from oa import forum

bp = Blueprint("forum", __name__)


class BoardCreate(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    description = fields.String(load_default="", validate=validate.Length(max=2000))


class ThreadCreate(Strict):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(required=True, validate=validate.Length(min=1, max=20_000))


class ReplyCreate(Strict):
    body = fields.String(required=True, validate=validate.Length(min=1, max=20_000))


class ThreadModeration(Strict):
    locked = fields.Boolean()
    hidden = fields.Boolean()


class PostModeration(Strict):
    hidden = fields.Boolean(required=True)


def dump_board(b) -> dict:  # noqa: ANN001
    """A board."""
    return {"id": b.id, "name": b.name, "description": b.description}


def dump_thread(t) -> dict:  # noqa: ANN001
    """A thread without its posts."""
    return {"id": t.id, "board_id": t.board_id, "title": t.title, "author": t.author, "locked": t.locked,
            "hidden": t.hidden, "created_at": t.created_at.isoformat(), "last_post_at": t.last_post_at.isoformat()}


def dump_post(p) -> dict:  # noqa: ANN001
    """A post."""
    return {"id": p.id, "thread_id": p.thread_id, "author": p.author, "body": p.body, "hidden": p.hidden,
            "created_at": p.created_at.isoformat()}


@bp.get("/forum/boards")
@login_required
def list_boards() -> dict:
    """All boards."""
    args = query_args(PageArgs)
    return paginate(forum.boards_query(), args["page"], args["per_page"], lambda rows: [dump_board(b) for b in rows])


@bp.post("/forum/boards")
@login_required
def create_board() -> tuple[dict, int]:
    """Create a board (admin)."""
    body = json_body(BoardCreate)
    user = current_user()
    begin_write(db.session)
    board = forum.create_board(db.session, user, body["name"], body["description"])
    db.session.commit()
    return dump_board(board), 201


@bp.get("/forum/boards/<int:board_id>/threads")
@login_required
def list_threads(board_id: int) -> dict:
    """Threads of a board, latest activity first."""
    args = query_args(PageArgs)
    query = forum.threads_query(db.session, current_user(), board_id)
    return paginate(query, args["page"], args["per_page"], lambda rows: [dump_thread(t) for t in rows])


@bp.post("/forum/boards/<int:board_id>/threads")
@login_required
def create_thread(board_id: int) -> tuple[dict, int]:
    """Open a thread; people @mentioned in the body are notified."""
    body = json_body(ThreadCreate)
    user = current_user()
    begin_write(db.session)
    thread, mentioned = forum.create_thread(db.session, user, board_id, body["title"], body["body"])
    db.session.commit()
    return {**dump_thread(thread), "mentioned": mentioned}, 201


@bp.get("/forum/threads/<int:thread_id>")
@login_required
def get_thread(thread_id: int) -> dict:
    """A thread with its (visible) posts."""
    user = current_user()
    thread = forum.get_thread(db.session, user, thread_id)
    return {**dump_thread(thread), "posts": [dump_post(p) for p in forum.posts_of(db.session, user, thread)]}


@bp.post("/forum/threads/<int:thread_id>/replies")
@login_required
def reply(thread_id: int) -> tuple[dict, int]:
    """Reply (409 if the thread is locked); people @mentioned are notified."""
    body = json_body(ReplyCreate)
    user = current_user()
    begin_write(db.session)
    post, mentioned = forum.reply(db.session, user, thread_id, body["body"])
    db.session.commit()
    return {**dump_post(post), "mentioned": mentioned}, 201


@bp.post("/forum/threads/<int:thread_id>/moderate")
@login_required
def moderate_thread(thread_id: int) -> dict:
    """Lock/unlock, hide/unhide a thread (admin)."""
    body = json_body(ThreadModeration)
    user = current_user()
    begin_write(db.session)
    thread = forum.moderate_thread(db.session, user, thread_id, locked=body.get("locked"), hidden=body.get("hidden"))
    db.session.commit()
    return dump_thread(thread)


@bp.post("/forum/posts/<int:post_id>/moderate")
@login_required
def moderate_post(post_id: int) -> dict:
    """Hide/unhide a post (admin)."""
    body = json_body(PostModeration)
    user = current_user()
    begin_write(db.session)
    post = forum.moderate_post(db.session, user, post_id, body["hidden"])
    db.session.commit()
    return dump_post(post)
