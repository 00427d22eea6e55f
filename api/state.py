"""Access to the per-app engine object from request handlers."""

from __future__ import annotations

from flask import current_app

from engine.runtime import Engine


def get_engine() -> Engine:
    """The engine the app factory built."""
    return current_app.extensions["oaflow_engine"]
