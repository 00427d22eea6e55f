"""The admin console's access rule: administrators only; anyone else gets the 403 page."""

from __future__ import annotations

from api.web.common.session import user
from store.errors import Forbidden


def require_admin() -> None:
    """Raise Forbidden (the 403 page) unless the logged-in user is an administrator."""
    if not user().has_role("admin"):
        raise Forbidden("this page is for administrators")
