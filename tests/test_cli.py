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
