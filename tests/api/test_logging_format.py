"""Operators read one log format: oaflow's own lines and the scheduler's are JSON objects, one per line."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import logging
from api.logging_setup import configure_logging
configure_logging(json_lines=True)
logging.getLogger("oaflow.api").info("started")
logging.getLogger("apscheduler.executors.default").warning('Run time of job "fire" was missed by 0:00:07')
logging.getLogger("apscheduler.scheduler").info("Added job")  # routine: not logged
"""


def test_the_scheduler_warnings_are_json_lines_like_ours() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True)
    lines = [json.loads(line) for line in out.stderr.splitlines()]  # every line parses: no plain text among them
    assert [(e["logger"], e["level"], e["msg"]) for e in lines] == [
        ("oaflow.api", "info", "started"),
        ("apscheduler.executors.default", "warning", 'Run time of job "fire" was missed by 0:00:07')]
