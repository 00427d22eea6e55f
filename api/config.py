"""Settings from the environment (OAFLOW_*), with defaults for the embedded SQLite set-up."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Settings:
    """Everything an oaflow process needs to know at start-up."""

    database_url: str = field(default_factory=lambda: os.environ.get(
        "OAFLOW_DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'oaflow.db'}"))
    secret_key: str = field(default_factory=lambda: os.environ.get("OAFLOW_SECRET_KEY", ""))
    upload_dir: str = field(default_factory=lambda: os.environ.get("OAFLOW_UPLOAD_DIR", str(ROOT / "var" / "uploads")))
    token_ttl_seconds: int = field(default_factory=lambda: int(os.environ.get("OAFLOW_TOKEN_TTL", "3600")))
    max_upload_bytes: int = field(default_factory=lambda: int(os.environ.get("OAFLOW_MAX_UPLOAD_BYTES",
                                                                             str(5 * 1024 * 1024))))
    scheduler: bool = field(default_factory=lambda: os.environ.get("OAFLOW_SCHEDULER", "1") != "0")
    timer_poll_seconds: float = field(default_factory=lambda: float(os.environ.get("OAFLOW_TIMER_POLL", "5")))
    script_timeout: float = field(default_factory=lambda: float(os.environ.get("OAFLOW_SCRIPT_TIMEOUT", "2")))
    # SQLite only: how long a writing request may queue behind others in this process before a 503
    sqlite_write_wait: float = field(default_factory=lambda: float(os.environ.get("OAFLOW_SQLITE_WRITE_WAIT", "60")))
    # SQLite only: how many writing requests may queue at once per process (0: no cap; `oaflow serve` sets
    # threads - 3, so reads and /healthz always find two threads); one more answers 503 at once
    sqlite_max_waiting: int = field(default_factory=lambda: int(os.environ.get("OAFLOW_SQLITE_MAX_WAITING", "0")))
    # PostgreSQL: how long a request waits for one of the process's pooled connections (10 kept, 20 more
    # opened under load) before it answers 503; a burst larger than the pool queues instead of failing
    db_pool_wait: float = field(default_factory=lambda: float(os.environ.get("OAFLOW_DB_POOL_WAIT", "60")))
    testing: bool = False
    log_json: bool = field(default_factory=lambda: os.environ.get("OAFLOW_LOG_FORMAT", "json") == "json")

    empty_approver: str = field(default_factory=lambda: os.environ.get("OAFLOW_EMPTY_APPROVER", "user:admin"))
    self_approval: str = field(default_factory=lambda: os.environ.get("OAFLOW_SELF_APPROVAL", "manager"))
    auto_approve_repeat: bool = field(default_factory=lambda: os.environ.get("OAFLOW_AUTO_APPROVE_REPEAT", "1") != "0")
    # webhooks may target loopback/private/link-local addresses (tests, on-premise receivers)
    webhook_allow_private: bool = field(default_factory=lambda: os.environ.get(
        "OAFLOW_WEBHOOK_ALLOW_PRIVATE", "0") == "1")
    # the service tasks' HTTP connector (api.connectors.http): host patterns it may call (empty = off),
    # and whether those hosts may be loopback/private addresses
    http_connector_allow: str = field(default_factory=lambda: os.environ.get("OAFLOW_HTTP_CONNECTOR_ALLOW", ""))
    http_connector_allow_private: bool = field(default_factory=lambda: os.environ.get(
        "OAFLOW_HTTP_CONNECTOR_ALLOW_PRIVATE", "0") == "1")

    # the company time zone (store.clock): attendance days and lateness, calendars, report months, displayed times
    timezone: str = field(default_factory=lambda: os.environ.get("OAFLOW_TIMEZONE", "Asia/Shanghai"))

    def approval_rules(self):  # noqa: ANN201
        """The engine's approver rules from these settings."""
        from engine.runtime import ApprovalRules
        return ApprovalRules(self.empty_approver, self.self_approval, self.auto_approve_repeat)

    def sqlalchemy_url(self) -> str:
        """The URL with relative SQLite paths made absolute and the SQLite folder created."""
        url = self.database_url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
            path = Path(url[len("sqlite:///"):])
            if not path.is_absolute():
                path = ROOT / path
            path.parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{path}"
        return url


def ensure_secret_key() -> bool:
    """Give this process (and the workers it forks) one OAFLOW_SECRET_KEY; True if it had to make one up."""
    if os.environ.get("OAFLOW_SECRET_KEY"):
        return False
    os.environ["OAFLOW_SECRET_KEY"] = secrets.token_hex(32)
    return True
