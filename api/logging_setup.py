"""Structured (JSON lines) logging for operators; plain text when OAFLOW_LOG_FORMAT=text."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and request context when present."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("method", "path", "status", "duration_ms", "user", "request_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


# libraries whose own lines go out in the same format: the scheduler's (a missed or failed job) and Python's
# warnings; at WARNING, as their INFO lines are about every run
LIBRARY_LOGGERS = ("apscheduler", "py.warnings")


def configure_logging(json_lines: bool = True, level: int = logging.INFO) -> None:
    """Send oaflow's logs, and the warnings of the libraries it runs, to stderr in one format, once per process."""
    root = logging.getLogger("oaflow")
    if getattr(root, "_oaflow_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.addHandler(handler)
        library.setLevel(logging.WARNING)
        library.propagate = False
    logging.captureWarnings(True)
    root._oaflow_configured = True  # type: ignore[attr-defined]
