"""Every CRM report gives the same numbers after the SQL-aggregation rewrite as the code before it did
(tests/crm/report_golden.json was recorded from that code on tests/crm/report_fixture's seeded data)."""

from __future__ import annotations

import json

from api.extensions import db
from tests.crm.report_fixture import GOLDEN, NOW, expected_reports, seed


def test_reports_match_the_numbers_recorded_before_the_rewrite(app) -> None:  # noqa: ANN001
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    with app.app_context():
        seed(db.session)
        db.session.commit()
        from crm.rfm import refresh_all
        refresh_all(db.session, NOW)
        got = expected_reports(db.session)
    for viewer, reports in golden.items():
        for name, value in reports.items():
            assert got[viewer][name] == value, (viewer, name)
