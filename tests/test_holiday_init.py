"""`oaflow init` loads the shipped company calendar once, never overwriting what an admin changed."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from api.cli import main


def test_init_loads_the_shipped_holidays_and_keeps_admin_edits(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cal.db'}"
    env = {"OAFLOW_DATABASE_URL": url, "OAFLOW_SECRET_KEY": "cal-test", "OAFLOW_UPLOAD_DIR": str(tmp_path / "u"),
           "OAFLOW_LOG_FORMAT": "text"}
    assert CliRunner().invoke(main, ["init"], env=env).exit_code == 0
    engine = create_engine(url)
    with engine.begin() as conn:
        rows = dict(conn.execute(text("SELECT date, kind FROM holiday")).all())
        assert rows["2026-10-01"] == "holiday" and rows["2026-10-10"] == "workday"  # National Day, make-up Sat
        assert rows["2027-02-06"] == "holiday"  # the Spring Festival of next year
        conn.execute(text("UPDATE holiday SET kind = 'workday', name = 'company rule' WHERE date = '2026-10-07'"))
    result = CliRunner().invoke(main, ["init"], env=env)
    assert result.exit_code == 0, result.output
    with engine.begin() as conn:
        kept = conn.execute(text("SELECT kind, name FROM holiday WHERE date = '2026-10-07'")).one()
        assert tuple(kept) == ("workday", "company rule")
        assert conn.execute(text("SELECT count(*) FROM holiday")).scalar() == len(rows)
    engine.dispose()
