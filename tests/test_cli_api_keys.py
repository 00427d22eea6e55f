"""`oaflow api-key create --scope --expires`, `list` and `revoke`: a revoked key stops working."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from api.cli import main


def test_api_key_list_revoke_scopes(tmp_path: Path) -> None:
    env = {"OAFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "OAFLOW_SECRET_KEY": "cli-test",
           "OAFLOW_UPLOAD_DIR": str(tmp_path / "uploads"), "OAFLOW_LOG_FORMAT": "text"}
    runner = CliRunner()
    assert runner.invoke(main, ["init"], env=env).exit_code == 0
    bad = runner.invoke(main, ["api-key", "create", "erp", "--scope", "root"], env=env)
    assert bad.exit_code != 0 and "unknown scope" in bad.output
    assert runner.invoke(main, ["api-key", "create", "erp", "--expires", "soon"], env=env).exit_code != 0
    made = runner.invoke(main, ["api-key", "create", "erp", "--expires", "30d", "--scope", "read:crm"], env=env)
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    listed = runner.invoke(main, ["api-key", "list"], env=env)
    assert listed.exit_code == 0 and "scopes=read:crm" in listed.stdout and key not in listed.stdout
    key_id = listed.stdout.split("\t")[0]

    from api.app import create_app
    from api.config import Settings
    app = create_app(Settings(database_url=env["OAFLOW_DATABASE_URL"], secret_key="x", testing=True,
                              upload_dir=str(tmp_path / "u"), log_json=False))
    client = app.test_client()
    auth = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/customers", headers=auth).status_code == 200
    assert client.get("/api/v1/tasks", headers=auth).status_code == 403
    assert runner.invoke(main, ["api-key", "revoke", key_id], env=env).exit_code == 0
    assert client.get("/api/v1/customers", headers=auth).status_code == 401
    assert runner.invoke(main, ["api-key", "revoke", "999"], env=env).exit_code != 0
