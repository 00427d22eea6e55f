"""Mounts the web app's pages (api.web.views) at the site root instead of /api/v1."""

from api.web.views import bp

URL_PREFIX = ""

__all__ = ["bp", "URL_PREFIX"]
