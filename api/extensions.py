"""Flask extensions shared by the app factory and the blueprints."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from store.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
