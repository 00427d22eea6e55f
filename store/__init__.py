"""Shared SQLAlchemy declarative base: the one metadata every package's models join."""
