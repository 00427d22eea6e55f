"""Flask extensions shared by the app factory and the blueprints."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from store.base import Base

# expire_on_commit=False: an engine command commits the request's read transaction before it locks the
# instance; expiring then would reload every object already read (user, definition) for nothing.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
