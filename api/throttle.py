"""Who the client is, and how often it may try credentials.

Client address: `request.remote_addr`. X-Forwarded-For / -Proto are honoured only when the request comes
from one of OAFLOW_TRUSTED_PROXIES (comma-separated addresses or CIDR networks; default none), so a client
cannot spoof its address (and escape its rate limit) by sending the header itself.

Limits (the `limits` library, moving window, counted in OAFLOW_RATELIMIT_STORAGE — memory:// per worker by
default; redis://… shares the counts between workers and hosts):
- OAFLOW_LOGIN_RATE (default 10/minute): password attempts per client address + username, right or wrong;
- OAFLOW_AUTH_FAIL_RATE (default 30/minute): failed credentials per client address, whatever the username,
  token or API key (stops one client spraying many usernames or keys).
A password attempt is refused with `TooManyAttempts` once either is spent (before the password is checked,
so the answer reveals nothing). A bearer token or API key that is valid is never refused; an invalid one
from a client over its failure limit gets the 429 instead of the 401.
"""

from __future__ import annotations

import ipaddress
import math
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, current_app, request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

from oa.lockout import LockoutPolicy

MAX_KEY = 100


class TooManyAttempts(Exception):
    """A rate limit is spent; `retry_after` is how many seconds until the next attempt may count."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many attempts; retry in {retry_after} s")
        self.retry_after = retry_after


class TrustedProxies:
    """WSGI middleware: apply ProxyFix (one hop of X-Forwarded-For/-Proto/-Host) only for trusted peers."""

    def __init__(self, app: Callable[..., Any], networks: Iterable[str]) -> None:
        self.app = app
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1)
        self.networks = [ipaddress.ip_network(n.strip(), strict=False) for n in networks if n.strip()]

    def trusted(self, peer: str | None) -> bool:
        """True if `peer` (the TCP peer's address) is one of the trusted proxies."""
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return False
        return any(address in net for net in self.networks)

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Any:
        """Serve the request, reading the forwarded headers only if the peer is trusted."""
        handler = self.fixed if self.trusted(environ.get("REMOTE_ADDR")) else self.app
        return handler(environ, start_response)


def init_throttle(app: Flask) -> None:
    """Rate-limit settings (from the environment; tests may override the app config), the counters'
    storage, and the trusted-proxy middleware."""
    config = app.config
    config.setdefault("OAFLOW_LOGIN_RATE", os.environ.get("OAFLOW_LOGIN_RATE", "10/minute"))
    config.setdefault("OAFLOW_AUTH_FAIL_RATE", os.environ.get("OAFLOW_AUTH_FAIL_RATE", "30/minute"))
    config.setdefault("OAFLOW_LOCKOUT", LockoutPolicy(
        threshold=int(os.environ.get("OAFLOW_LOGIN_LOCKOUT_THRESHOLD", "10")),
        minutes=float(os.environ.get("OAFLOW_LOGIN_LOCKOUT_MINUTES", "15"))))
    storage = storage_from_string(os.environ.get("OAFLOW_RATELIMIT_STORAGE", "memory://"))
    app.extensions["oaflow_throttle"] = MovingWindowRateLimiter(storage)
    proxies = os.environ.get("OAFLOW_TRUSTED_PROXIES", "").split(",")
    config.setdefault("OAFLOW_TRUSTED_PROXIES", [p.strip() for p in proxies if p.strip()])
    if config["OAFLOW_TRUSTED_PROXIES"]:
        app.wsgi_app = TrustedProxies(app.wsgi_app, config["OAFLOW_TRUSTED_PROXIES"])


def client_ip() -> str:
    """The client's address (the trusted proxy's X-Forwarded-For when there is one)."""
    return (request.remote_addr or "unknown")[:64]


def _limiter() -> MovingWindowRateLimiter:
    return current_app.extensions["oaflow_throttle"]


def _item(setting: str) -> RateLimitItem:
    return parse(current_app.config[setting])


def _retry(item: RateLimitItem, *keys: str) -> int:
    reset = _limiter().get_window_stats(item, *keys).reset_time
    return max(1, math.ceil(reset - time.time()))


def _login_key(username: str) -> str:
    return f"{client_ip()}:{username[:MAX_KEY].casefold()}"


def check_password_attempt(username: str) -> None:
    """Count a password attempt for `username` from this client; TooManyAttempts if this client may not
    try now (too many attempts for this username, or too many failures overall)."""
    fails = _item("OAFLOW_AUTH_FAIL_RATE")
    if not _limiter().test(fails, "fail", client_ip()):
        raise TooManyAttempts(_retry(fails, "fail", client_ip()))
    tries = _item("OAFLOW_LOGIN_RATE")
    if not _limiter().hit(tries, "login", _login_key(username)):
        raise TooManyAttempts(_retry(tries, "login", _login_key(username)))


def record_failure() -> None:
    """Count a failed credential (wrong password, invalid token or API key) against this client."""
    _limiter().hit(_item("OAFLOW_AUTH_FAIL_RATE"), "fail", client_ip())


def check_failed_credential() -> None:
    """A credential from this client just failed: count it, or TooManyAttempts if it is over its limit."""
    fails = _item("OAFLOW_AUTH_FAIL_RATE")
    if not _limiter().hit(fails, "fail", client_ip()):
        raise TooManyAttempts(_retry(fails, "fail", client_ip()))
