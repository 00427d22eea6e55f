"""The `oaflow` command line on a real (fresh SQLite) database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from tests.bpmn_samples import script_process, user_task_process


@pytest.fixture
def run(tmp_path: Path):  # noqa: ANN201
    env = {"OAFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "OAFLOW_SECRET_KEY": "cli-test",
           "OAFLOW_UPLOAD_DIR": str(tmp_path / "uploads"), "OAFLOW_LOG_FORMAT": "text"}

    def invoke(*args: str, input: str | None = None, env_extra: dict | None = None):  # noqa: A002, ANN202
        return CliRunner().invoke(main, list(args), input=input, env={**env, **(env_extra or {})})
    return invoke


def test_init_seed_user_and_api_key(run, tmp_path: Path) -> None:  # noqa: ANN001
    result = run("init")
    assert result.exit_code == 0, result.output
    assert "leave_request v1 (new)" in result.output
    again = run("init")
    assert again.exit_code == 0 and "leave_request v1 (unchanged)" in again.output
    seeded = run("seed-demo")
    assert seeded.exit_code == 0 and "demo organisation ready (9 users created)" in seeded.output
    assert "0 users created" in run("seed-demo").output
    added = run("user", "add", "heidi", "--role", "employee", "--manager", "bob", "--group", "sales",
                "--password-stdin", input="s3cret-pass\n")
    assert added.exit_code == 0, added.output
    key_run = run("api-key", "create", "finance-system")
    assert key_run.exit_code == 0, key_run.output
    key = key_run.stdout.strip().splitlines()[-1]
    assert key.startswith("oak_") and " " not in key

    from api.app import create_app
    from api.config import Settings
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'cli.db'}", secret_key="x", testing=True,
                              upload_dir=str(tmp_path / "u"), log_json=False))
    client = app.test_client()
    login = client.post("/api/v1/auth/token", json={"username": "heidi", "password": "s3cret-pass"})
    assert login.status_code == 200
    assert client.get("/api/v1/process-definitions", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_deploy_reports_problems_and_versions(run, tmp_path: Path) -> None:  # noqa: ANN001
    assert run("init").exit_code == 0
    good = tmp_path / "good.bpmn"
    good.write_bytes(user_task_process("cli_flow"))
    result = run("deploy", str(good))
    assert result.exit_code == 0 and "cli_flow v1 (new)" in result.output
    bad = tmp_path / "bad.bpmn"
    bad.write_bytes(script_process("cli_bad", "import os"))
    result = run("deploy", str(bad))
    assert result.exit_code != 0 and "deployment refused" in result.output and "[script]" in result.output


def test_clear_start_up_errors(run, tmp_path: Path) -> None:  # noqa: ANN001
    not_migrated = run("deploy", str(tmp_path), env_extra={"OAFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert not_migrated.exit_code != 0
    assert "not migrated" in not_migrated.output and "oaflow init" in not_migrated.output
    bad_url = run("seed-demo", env_extra={"OAFLOW_DATABASE_URL": "nonsense://"})
    assert bad_url.exit_code != 0 and "OAFLOW_DATABASE_URL" in bad_url.output
    unreachable = run("seed-demo", env_extra={
        "OAFLOW_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"})
    assert unreachable.exit_code != 0 and "cannot connect to the database" in unreachable.output
    assert "Traceback" not in bad_url.output + unreachable.output + not_migrated.output


def _serve(database_url: str, tmp_path: Path, *args: str, secret: str | None = None) -> tuple:
    """`oaflow serve` on a free port in a subprocess; (process, port, stdout lines queue)."""
    import os
    import queue
    import socket
    import subprocess
    import sys
    import threading

    from api.config import ROOT
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "OAFLOW_SECRET_KEY"}
    env.update({"OAFLOW_DATABASE_URL": database_url, "OAFLOW_UPLOAD_DIR": str(tmp_path / "uploads"),
                "OAFLOW_LOG_FORMAT": "text", **({"OAFLOW_SECRET_KEY": secret} if secret else {})})
    proc = subprocess.Popen([str(Path(sys.executable).parent / "oaflow"), "serve", "--port", str(port), *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    return proc, port, lines


def _get(url: str, token: str | None = None) -> tuple[int, str, bytes]:
    import urllib.error
    import urllib.request
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


def test_serve_prints_one_ready_line_and_warns_once_about_the_secret(database_url: str, tmp_path: Path) -> None:
    """After `oaflow serve` answers, one line gives the URL and the demo logins; without OAFLOW_SECRET_KEY
    one warning, and every worker shares the key it made up (a token works on all of them)."""
    import json
    import queue
    import time
    import urllib.request

    proc, port, lines = _serve(database_url, tmp_path, "--workers", "2", "--no-scheduler")
    try:
        deadline = time.monotonic() + 180  # a guard against a hang only: the line comes when the server answers
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                line = lines.get(timeout=min(1.0, max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                if time.monotonic() > deadline:
                    proc.terminate()
                    raise AssertionError("no ready line: " + proc.communicate(timeout=60)[1][-3000:]) from None
                continue
            break
        base = f"http://127.0.0.1:{port}"
        assert line.strip() == (f"oaflow is ready at {base} - log in as alice, bob, carol, dave, erin, frank, grace, "
                                "admin (password: demo)")
        status, ctype, body = _get(f"{base}/favicon.ico")  # the server answers as soon as the line is out
        assert status == 200 and ctype.startswith("image/svg+xml") and body.startswith(b"<svg")
        login = urllib.request.Request(f"{base}/api/v1/auth/token", method="POST",
                                       data=json.dumps({"username": "alice", "password": "demo"}).encode(),
                                       headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(login, timeout=30) as resp:
            token = json.load(resp)["access_token"]
        # both workers accept it (requests are spread over them): one key for the whole server
        assert {_get(f"{base}/api/v1/users/me", token)[0] for _ in range(30)} == {200}
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=60)
    assert err.count("OAFLOW_SECRET_KEY") == 1, err
    assert lines.qsize() == 0  # nothing else on stdout: the ready line stands alone


def test_serve_with_a_secret_and_no_demo_users_prints_just_the_url(database_url: str, tmp_path: Path) -> None:
    import queue

    from sqlalchemy import create_engine, text
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE user_account SET password_hash = NULL"))  # no demo password left
    engine.dispose()
    proc, port, lines = _serve(database_url, tmp_path, "--no-scheduler", secret="s" * 40)
    try:
        line = lines.get(timeout=180)  # a guard against a hang only: the line comes when the server answers
    except queue.Empty:
        line = ""
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=60)
    assert line.strip() == f"oaflow is ready at http://127.0.0.1:{port}", err[-3000:]
    assert "OAFLOW_SECRET_KEY" not in err, err
