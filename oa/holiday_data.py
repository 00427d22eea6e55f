"""The shipped company calendar: China's public holidays and make-up working days (调休), loaded by `oaflow init`.

2026 is the State Council's arrangement (国办发明电, 4 November 2025). 2027's arrangement was not published when
this list was made: it holds only the statutory holidays (元旦 1 day, 春节 除夕 to 初三, 清明, 劳动节 2 days, 端午,
中秋, 国庆 3 days) and no make-up days. Admins add the official bridges through `/api/v1/holidays`.
"""

from __future__ import annotations

from datetime import date, timedelta


def _span(first: str, last: str, name: str, kind: str = "holiday") -> list[tuple[str, str, str]]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [((start + timedelta(days=n)).isoformat(), kind, name) for n in range((end - start).days + 1)]


# (date, kind, name): kind is "holiday" (no work) or "workday" (a make-up working day on a weekend)
CHINA: tuple[tuple[str, str, str], ...] = tuple(
    _span("2026-01-01", "2026-01-03", "元旦 New Year's Day")
    + [("2026-01-04", "workday", "元旦调休 New Year make-up day")]
    + _span("2026-02-15", "2026-02-23", "春节 Spring Festival")
    + [("2026-02-14", "workday", "春节调休 Spring Festival make-up day"),
       ("2026-02-28", "workday", "春节调休 Spring Festival make-up day")]
    + _span("2026-04-04", "2026-04-06", "清明节 Qingming Festival")
    + _span("2026-05-01", "2026-05-05", "劳动节 Labour Day")
    + [("2026-05-09", "workday", "劳动节调休 Labour Day make-up day")]
    + _span("2026-06-19", "2026-06-21", "端午节 Dragon Boat Festival")
    + _span("2026-09-25", "2026-09-27", "中秋节 Mid-Autumn Festival")
    + _span("2026-10-01", "2026-10-07", "国庆节 National Day")
    + [("2026-09-20", "workday", "国庆节调休 National Day make-up day"),
       ("2026-10-10", "workday", "国庆节调休 National Day make-up day")]
    # 2027: statutory days only (the official arrangement with its make-up days is added when published)
    + _span("2027-01-01", "2027-01-01", "元旦 New Year's Day")
    + _span("2027-02-05", "2027-02-08", "春节 Spring Festival")
    + _span("2027-04-05", "2027-04-05", "清明节 Qingming Festival")
    + _span("2027-05-01", "2027-05-02", "劳动节 Labour Day")
    + _span("2027-06-09", "2027-06-09", "端午节 Dragon Boat Festival")
    + _span("2027-09-15", "2027-09-15", "中秋节 Mid-Autumn Festival")
    + _span("2027-10-01", "2027-10-03", "国庆节 National Day")
)
