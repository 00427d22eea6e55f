"""`oaflow api-key create NAME --act-as` makes a key that may start flows for employees; without it, not."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from api.cli import main


def test_api_key_create_act_as(tmp_path: Path) -> None:
    env = {"OAFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "OAFLOW_SECRET_KEY": "cli-test",
           "OAFLOW_UPLOAD_DIR": str(tmp_path / "uploads"), "OAFLOW_LOG_FORMAT": "text"}
    runner = CliRunner()
    assert runner.invoke(main, ["init"], env=env).exit_code == 0
    assert runner.invoke(main, ["seed-demo"], env=env).exit_code == 0
    keys = {}
    for flag in ([], ["--act-as"]):
        result = runner.invoke(main, ["api-key", "create", "erp", *flag], env=env)
        assert result.exit_code == 0, result.output
        keys[bool(flag)] = result.stdout.strip().splitlines()[-1]

    from api.app import create_app
    from api.config import Settings
    app = create_app(Settings(database_url=env["OAFLOW_DATABASE_URL"], secret_key="x", testing=True,
                              upload_dir=str(tmp_path / "u"), log_json=False))
    client = app.test_client()
    body = {"started_by": "alice", "variables": {"leave_type": "annual", "start_date": "2026-12-01",
                                                 "end_date": "2026-12-02", "days": 2, "reason": "trip"}}
    url = "/api/v1/process-definitions/leave_request/start"
    assert client.post(url, json=body, headers={"Authorization": f"Bearer {keys[False]}"}).status_code == 403
    started = client.post(url, json=body, headers={"Authorization": f"Bearer {keys[True]}"})
    assert started.status_code == 201 and started.get_json()["started_by"] == "alice"
