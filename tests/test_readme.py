"""The README's curl walkthrough works as printed, against a real `oaflow serve`."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _walkthrough() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## The API in five minutes", 1)[1]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def test_readme_walkthrough_runs_as_printed(database_url: str, tmp_path: Path) -> None:
    assert shutil.which("curl"), "curl is needed for the README walkthrough"
    port = _free_port()
    env = {**os.environ, "OAFLOW_DATABASE_URL": database_url, "OAFLOW_SECRET_KEY": "readme",
           "OAFLOW_UPLOAD_DIR": str(tmp_path / "uploads"), "OAFLOW_LOG_FORMAT": "text"}
    oaflow = Path(sys.executable).parent / "oaflow"
    server = subprocess.Popen([str(oaflow), "serve", "--port", str(port), "--no-scheduler"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180  # only a guard against a hang: a busy machine may take long to start
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("oaflow serve did not come up: " + server.stderr.read1().decode())
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=10) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            time.sleep(0.1)
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", _walkthrough()], cwd=ROOT,
                                env={**env, "BASE": base}, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr + result.stdout
        lines = result.stdout.strip().splitlines()
        assert lines[-2:] == ["completed", "completed"], result.stdout
        compact = result.stdout.replace(" ", "")
        assert '"leave_request"' in result.stdout and '"status":"completed"' in compact
        # identical content: the designer's deploy after `oaflow init` keeps version 1
        assert '"created":false' in compact and '"created":true' not in compact and '"version":1' in compact
    finally:
        server.terminate()
        server.wait(timeout=15)
