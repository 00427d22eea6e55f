"""People as the pages name them: the `|person` filter shows a username as the person's display name.

Records keep usernames (`alice`); a page says "Alice Wang". Each username is looked up once per request (a list
of fifty rows by three owners costs three queries); one that names nobody, or a service account without a
display name, is shown as it is.
"""

from __future__ import annotations

from flask import Flask, g
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from api.extensions import db
from oa.models import User

MAX_LOOKUPS = 2000  # per request: past this a username is shown as it is


def person(username: object) -> str:
    """The display name of the user `username` names (plain text for autoescape), else the username itself."""
    if username is None or username == "":
        return ""
    name = str(username)
    known: dict[str, str] = g.setdefault("oaflow_people", {})
    if name not in known:
        if len(known) >= MAX_LOOKUPS or len(name) > 100:
            return name
        try:
            with db.session.no_autoflush:
                found = db.session.scalar(select(User.display_name).where(User.username == name))
        except SQLAlchemyError:  # a page rendered after a failed statement still shows who it was
            found = None
        known[name] = found or name
    return known[name]


def init_people(app: Flask) -> None:
    """Register the `person` filter on `app`'s templates."""
    app.jinja_env.filters["person"] = person
