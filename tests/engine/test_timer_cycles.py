"""Cron timer cycles: which values are cron, and when they fire (Quartz and crontab forms)."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.bpmn_syntax import normalize_timer
from engine.timer_cycles import check_cron, is_cron, next_fire


def test_cron_is_told_from_iso_and_python() -> None:
    assert is_cron("0 0/5 * * * ?") and is_cron("*/5 * * * *")
    assert not is_cron("R3/PT10M") and not is_cron("days * 2 * x") and not is_cron("0 " * 300)
    assert normalize_timer("0 0/5 * * * ?") == '"0 0/5 * * * ?"'
    assert normalize_timer("days * 2 * x") == "days * 2 * x"


def test_quartz_and_crontab_next_fire_times() -> None:
    after = datetime(2026, 12, 2, 10, 3, 0, tzinfo=UTC)  # a Wednesday
    assert next_fire("0 0/5 * * * ?", after) == datetime(2026, 12, 2, 10, 5, tzinfo=UTC)
    assert next_fire("*/10 * * * *", after) == datetime(2026, 12, 2, 10, 10, tzinfo=UTC)
    # Quartz counts Sunday as 1: "2" is Monday
    assert next_fire("0 0 9 ? * 2", after) == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert next_fire("0 0 9 ? * MON-FRI", after) == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_bad_cron_says_why() -> None:
    assert check_cron("0 0/5 * * * XYZ")
    assert check_cron("0 0 9 L * ?")
    assert check_cron("0 0/5 * * * ?") is None
