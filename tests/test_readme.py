"""The README's curl walkthrough works as printed, against a real `oaflow serve`."""

from __future__ import annotations

import json
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


def _call(base: str, method: str, path: str, user: str, body: dict | None = None) -> dict:
    """One JSON API call as `user` (password demo)."""
    def send(method: str, path: str, body: dict | None, token: str | None = None) -> dict:
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)
    token = send("POST", "/api/v1/auth/token", {"username": user, "password": "demo"})["access_token"]
    return send(method, path, body, token)


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
        def walkthrough() -> subprocess.CompletedProcess:
            return subprocess.run(["bash", "-euo", "pipefail", "-c", _walkthrough()], cwd=ROOT,
                                  env={**env, "BASE": base}, capture_output=True, text=True, timeout=60)

        result = walkthrough()
        assert result.returncode == 0, result.stderr + result.stdout
        lines = result.stdout.strip().splitlines()
        assert lines[-2:] == ["completed", "completed"], result.stdout
        compact = result.stdout.replace(" ", "")
        assert '"leave_request"' in result.stdout and '"status":"completed"' in compact
        # identical content: the designer's deploy after `oaflow init` keeps version 1
        assert '"created":false' in compact and '"created":true' not in compact and '"version":1' in compact

        # run again with another request of alice's waiting for bob: the Idempotency-Key answers with the first
        # run's (approved) request, and the walkthrough approves nothing else
        other = _call(base, "POST", "/api/v1/process-definitions/leave_request/start", "alice", {
            "business_key": "readme-other", "variables": {"leave_type": "annual", "start_date": "2026-12-28",
                                                          "end_date": "2026-12-29", "reason": "other"}})
        again = walkthrough()
        assert again.returncode == 0, again.stderr + again.stdout
        assert again.stdout.strip().splitlines()[-2:] == ["completed", "completed"], again.stdout
        assert _call(base, "GET", f"/api/v1/process-instances/{other['id']}", "alice")["status"] == "running"
    finally:
        server.terminate()
        server.wait(timeout=15)
