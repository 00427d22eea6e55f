"""Lists and reports at scale: every list and report endpoint (and the web dashboard and list pages) timed on
the demo data, then again after loading a realistic organisation's years of data, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.scale                   # full size, both databases (~10 min on 2 cores)
    .venv/bin/python -m bench.scale --size small      # 1/20th, a quick run
    .venv/bin/python -m bench.scale --db sqlite       # one database
    .venv/bin/python -m bench.scale --db sqlite --keep /tmp/scale.db   # keep the full-size file, then:
    .venv/bin/python -m bench.scale --reuse /tmp/scale.db              # time it again without reloading
    .venv/bin/python -m bench.scale --db postgresql --keep-pg scale19  # keep a PostgreSQL database, then:
    .venv/bin/python -m bench.scale --reuse-pg scale19                 # time it again (drop it when done:
                                                                       # --drop-pg scale19)

Full size: 300 reps in 30 departments (and 700 more staff), 200k customers, 200k opportunities, 400k follow-ups,
50k tickets, 40k contracts with 80k receivable plans and 60k payments, a year of attendance for 1,000 people.
Rows go in through Core executemany in chunks; the RFM, forecast and attendance-month summaries are then
refreshed once and the planner statistics gathered (ANALYZE), as a nightly load would. Each endpoint is called once
to warm up, then 5 times as `admin` (the widest scope); the median (p50) and the growth large / max(demo, 10 ms)
are printed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import ADMIN_URL, _app, _prepare, scratch_database  # noqa: E402

FULL = {"reps": 300, "staff": 1000, "customers": 200_000, "opportunities": 200_000, "follow_ups": 400_000,
        "tickets": 50_000, "contracts": 40_000, "attendance_days": 365}
CHUNK = 5000
CITIES = "北京 上海 广州 深圳 杭州 成都 武汉 南京 西安 重庆 天津 苏州 长沙 郑州 青岛 厦门".split()
WORDS = ("华鑫 宏达 恒通 金泰 瑞丰 博远 天成 永盛 中科 海纳 新元 东方 鼎信 嘉禾 腾飞 汇丰 鸿运 盛世 安泰 佳和 "
         "凯旋 远航 星辰 银河 盈科 锦程 富源 正大 美达 康宁 明德 信诚 润泽 华夏 长城 联创 卓越 兴隆 万通 和谐").split()
KINDS = "科技 贸易 制造 物流 医药 能源 建设 食品 传媒 咨询".split()
SUFFIX = ("有限公司", "股份有限公司", "集团", "商行")
INDUSTRIES = ("retail", "manufacturing", "energy", "logistics", "technology", "healthcare", "finance")
REGIONS = ("north", "south", "east", "west", "central")
STAGES = (("lead", 10), ("qualified", 25), ("proposal", 50), ("negotiation", 75), ("won", 100), ("lost", 0))
SEARCH = "鸿运"  # a two-character word in about 1 in 40 names


LIMIT_MS, LIMIT_GROWTH = 150.0, 5.0  # issue #19: p50 at the large size, and its growth over the demo size
# Growth is judged against max(demo p50, FLOOR_MS), said so wherever it is quoted (bench/README.md): a demo
# figure of 1-2 ms is the fixed cost of a request (routing, auth, serialising) plus timer noise on a shared VM
# (the same call measured 1.4-7 ms in different runs at demo size), not the cost of its query; 5x of it would
# be a bar of 5-10 ms, less than one index scan of a large table costs.
FLOOR_MS = 10.0


def growth(demo_ms: float, large_ms: float) -> float:
    """large / max(demo, FLOOR_MS): the growth the <= 5x rule is judged by."""
    return large_ms / max(demo_ms, FLOOR_MS)


def sizes(size: str) -> dict[str, int]:
    """Row counts of a size: full, or small (1/20th; staff, reps and days kept whole-ish)."""
    if size == "full":
        return dict(FULL)
    small = {k: max(1, v // 20) for k, v in FULL.items()}
    small.update(reps=60, staff=200, attendance_days=365)
    return small


def _chunks(rows: Iterator[dict], n: int = CHUNK) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


def generate(session, counts: dict[str, int], now: datetime) -> dict[str, float]:  # noqa: ANN001, C901, PLR0915
    """Load the organisation and its CRM and attendance history; returns seconds per table."""
    from crm.models import Contract, Customer, CustomerGram, FollowUp, Opportunity, Payment, ReceivablePlan, Ticket
    from crm.search import grams
    from oa.models import Department, User
    from oa.record_models import AttendanceRecord
    rnd = random.Random(2026)
    today = now.date()
    took: dict[str, float] = {}
    conn = session.connection()

    def load(name: str, model: type, rows: Iterator[dict]) -> None:
        began = time.perf_counter()
        for batch in _chunks(rows):
            keys = {k for row in batch for k in row}
            conn.execute(insert(model.__table__), [{k: row.get(k) for k in keys} for row in batch])
        took[name] = time.perf_counter() - began

    pw = session.scalar(text("SELECT password_hash FROM user_account WHERE username = 'alice'"))
    base_dept = (session.scalar(text("SELECT max(id) FROM department")) or 0) + 1
    base_user = (session.scalar(text("SELECT max(id) FROM user_account")) or 0) + 1
    n_dept = max(1, counts["reps"] // 10)
    load("departments", Department, ({"id": base_dept + d, "name": f"销售{d + 1:02d}部", "active": True}
                                     for d in range(n_dept)))
    heads = [base_user + d for d in range(n_dept)]
    reps, staff = [], []

    def people() -> Iterator[dict]:
        for d in range(n_dept):
            yield {"id": heads[d], "username": f"mgr{d + 1:02d}", "display_name": f"经理{d + 1:02d}",
                   "password_hash": pw, "roles": ["employee", "sales"], "department_id": base_dept + d,
                   "active": True, "token_version": 1, "session_epoch": 0, "created_at": now}
        uid = base_user + n_dept
        for r in range(counts["reps"]):
            d = r % n_dept
            reps.append(f"rep{r + 1:03d}")
            yield {"id": uid, "username": reps[-1], "display_name": f"销售{r + 1:03d}", "password_hash": pw,
                   "roles": ["employee", "sales"], "manager_id": heads[d], "department_id": base_dept + d,
                   "active": True, "token_version": 1, "session_epoch": 0, "created_at": now}
            uid += 1
        for s in range(counts["staff"] - counts["reps"] - n_dept):
            staff.append(f"emp{s + 1:04d}")
            yield {"id": uid, "username": staff[-1], "password_hash": pw, "roles": ["employee"], "active": True,
                   "token_version": 1, "session_epoch": 0, "created_at": now}
            uid += 1

    load("users", User, people())
    for d in range(n_dept):
        conn.execute(text("UPDATE department SET head_id = :h WHERE id = :d"), {"h": heads[d], "d": base_dept + d})

    base = (session.scalar(text("SELECT max(id) FROM crm_customer")) or 0) + 1
    n_cust = counts["customers"]
    owners = [None if rnd.random() < 0.05 else rnd.choice(reps) for _ in range(n_cust)]
    names = [f"{rnd.choice(CITIES)}{rnd.choice(WORDS)}{rnd.choice(KINDS)}{rnd.choice(SUFFIX)}{i}" for i in
             range(n_cust)]

    def customers() -> Iterator[dict]:
        for i in range(n_cust):
            created = now - timedelta(days=rnd.randint(0, 1500))
            phone = f"1{rnd.randint(3, 9)}{rnd.randint(0, 999_999_999):09d}"
            yield {"id": base + i, "name": names[i], "name_key": names[i].casefold(),
                   "industry": rnd.choice(INDUSTRIES), "region": rnd.choice(REGIONS), "level": rnd.choice("ABCD"),
                   "source": "web", "phone": phone, "phone_key": phone, "owner": owners[i],
                   "assigned_at": created if owners[i] else None, "points": 0, "created_at": created,
                   "updated_at": created}

    load("customers", Customer, customers())
    load("customer grams", CustomerGram, ({"gram": g, "customer_id": base + i}
                                          for i in range(n_cust) for g in grams(names[i].casefold())))

    def pick() -> tuple[int, str]:
        i = rnd.randrange(n_cust)
        return base + i, owners[i] or rnd.choice(reps)

    def opportunities() -> Iterator[dict]:
        for i in range(counts["opportunities"]):
            cid, owner = pick()
            stage, prob = rnd.choice(STAGES)
            status = stage if stage in ("won", "lost") else "open"
            created = now - timedelta(days=rnd.randint(0, 1500))
            yield {"customer_id": cid, "name": f"商机{i}", "stage": stage,
                   "amount": Decimal(rnd.randint(1, 5000) * 100),
                   "probability": prob, "expected_close_date": today + timedelta(days=rnd.randint(-200, 400)),
                   "owner": owner, "status": status,
                   "closed_at": created + timedelta(days=rnd.randint(1, 120)) if status != "open" else None,
                   "created_at": created, "updated_at": created}

    load("opportunities", Opportunity, opportunities())

    def follow_ups() -> Iterator[dict]:
        for i in range(counts["follow_ups"]):
            cid, owner = pick()
            yield {"customer_id": cid, "user": owner, "type": rnd.choice(("call", "visit", "email", "meeting")),
                   "content": f"跟进记录 {i}", "created_at": now - timedelta(minutes=rnd.randint(0, 3 * 525_600))}

    load("follow-ups", FollowUp, follow_ups())

    def tickets() -> Iterator[dict]:
        for i in range(counts["tickets"]):
            cid, owner = pick()
            created = now - timedelta(hours=rnd.randint(0, 20_000))
            closed = rnd.random() < 0.8
            yield {"customer_id": cid, "kind": "service", "title": f"工单{i}", "priority": "medium",
                   "status": "closed" if closed else "open", "team": "sales", "assignee": owner,
                   "sla_due_at": created + timedelta(days=2), "created_at": created,
                   "closed_at": created + timedelta(hours=30) if closed else None}

    load("tickets", Ticket, tickets())
    k_base = (session.scalar(text("SELECT max(id) FROM crm_contract")) or 0) + 1
    contracts = []
    for i in range(counts["contracts"]):
        cid, owner = pick()
        contracts.append({"id": k_base + i, "customer_id": cid, "title": f"合同{i}", "amount": Decimal(100_000),
                          "paid_amount": Decimal(0), "status": "active", "owner": owner,
                          "signed_date": today - timedelta(days=rnd.randint(0, 1000)), "created_at": now})
    load("contracts", Contract, iter(contracts))
    load("receivable plans", ReceivablePlan, ({"contract_id": k["id"], "due_date": k["signed_date"] +
                                               timedelta(days=90 * n), "amount": Decimal(50_000),
                                               "paid_amount": Decimal(0), "created_at": now}
                                              for k in contracts for n in (1, 2)))
    load("payments", Payment, ({"contract_id": k["id"], "amount": Decimal(rnd.randint(1, 50) * 1000),
                                "paid_on": min(today, k["signed_date"] + timedelta(days=rnd.randint(0, 200))),
                                "created_at": now}
                               for k in contracts for _ in range(1 if rnd.random() < 0.5 else 2)))

    def attendance() -> Iterator[dict]:
        people_ = [f"mgr{d + 1:02d}" for d in range(n_dept)] + reps + staff
        for back in range(counts["attendance_days"]):
            day = today - timedelta(days=back + 1)
            if day.weekday() >= 5:
                continue
            for who in people_:
                if rnd.random() < 0.03:
                    continue
                start = datetime.combine(day, datetime.min.time()) + timedelta(hours=1, minutes=rnd.randint(0, 40))
                yield {"user": who, "work_date": day, "clock_in": start, "clock_out": start + timedelta(hours=9)}

    load("attendance", AttendanceRecord, attendance())
    session.commit()
    from crm.rfm import refresh_all
    began = time.perf_counter()
    refresh_all(session, now)
    took["rfm summary"] = time.perf_counter() - began
    from oa.attendance import refresh_summary
    began = time.perf_counter()
    refresh_summary(session, now)  # the scheduler's job: the closed months of attendance per person
    took["attendance summary"] = time.perf_counter() - began
    from crm.forecast_summary import refresh_all as refresh_forecast
    began = time.perf_counter()
    refresh_forecast(session)  # a bulk load through Core rebuilds the forecast summary itself
    session.commit()
    took["forecast summary"] = time.perf_counter() - began
    return took


def analyse(session) -> None:  # noqa: ANN001
    """Gather planner statistics (as a nightly job after a bulk load would)."""
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        session.execute(text("ANALYZE"))
        session.commit()


def endpoints(month: str, period: str, last_month: str | None = None) -> list[str]:
    """Every list and report endpoint timed (API, then web pages). The attendance report and the dashboard are
    timed for this month (their default) and for the last whole month (every work day of it recorded)."""
    api = "/api/v1"
    last_month = last_month or month
    return [f"{api}/customers?per_page=20", f"{api}/customers?q={SEARCH}", f"{api}/customers?per_page=20&page=500",
            f"{api}/customers?per_page=20&after=150000", f"{api}/customers?pool=public&per_page=20",
            f"{api}/opportunities?per_page=20", f"{api}/follow-ups?per_page=20", f"{api}/tickets?per_page=20",
            f"{api}/contracts?per_page=20", f"{api}/contacts?per_page=20", f"{api}/receivables?per_page=20",
            f"{api}/attendance?per_page=20", f"{api}/targets?per_page=20",
            f"{api}/reports/pipeline", f"{api}/reports/forecast", f"{api}/reports/sales-by-rep?period={period}",
            f"{api}/reports/customer-distribution", f"{api}/reports/segments?per_page=100",
            f"{api}/reports/approval-efficiency", f"{api}/reports/attendance-vs-sales?month={month}",
            f"{api}/reports/attendance?month={month}", f"{api}/reports/attendance?month={last_month}",
            "/dashboard", f"/dashboard?month={last_month}", "/customers", f"/customers?q={SEARCH}",
            "/customers?page=400", "/customers/1", "/attendance"]


def measure(app, paths: list[str], rounds: int = 5) -> dict[str, tuple[float, int]]:  # noqa: ANN001
    """p50 milliseconds and the status of each path, called as admin (API: bearer token; web: session)."""
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "admin", "password": "demo"}).get_json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    with app.app_context():
        from api.extensions import db
        row = db.session.execute(text("SELECT id, token_version, session_epoch FROM user_account "
                                      "WHERE username = 'admin'")).one()
    with client.session_transaction() as sess:
        sess["uid"], sess["tv"], sess["se"] = row
        sess["at"] = int(time.time())  # the log-in time (a session ends 12 hours after it)
    out = {}
    for path in paths:
        status = client.get(path, headers=headers if path.startswith("/api") else {}).status_code
        times = []
        for _ in range(rounds):
            began = time.perf_counter()
            client.get(path, headers=headers if path.startswith("/api") else {})
            times.append((time.perf_counter() - began) * 1000)
        out[path] = (statistics.median(times), status)
    return out


def pg_url(name: str) -> str:
    """The URL of the PostgreSQL database `name` on the server of OAFLOW_BENCH_PG."""
    from sqlalchemy.engine import make_url
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg(name: str) -> None:
    """Drop a PostgreSQL database kept by `--keep-pg`."""
    from sqlalchemy import create_engine
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def database(kind: str, keep: Path | None = None, keep_pg: str | None = None) -> Iterator[str]:
    """A migrated, seeded, deployed scratch database of `kind` (sqlite | postgresql), removed afterwards; with
    `keep` (SQLite) or `keep_pg` (a PostgreSQL database name), left in place for profiling (`--reuse`,
    `--reuse-pg`)."""
    if kind == "postgresql" and keep_pg:
        from sqlalchemy import create_engine
        drop_pg(keep_pg)
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{keep_pg}"'))
        admin.dispose()
        _prepare(pg_url(keep_pg))
        yield pg_url(keep_pg)
        return
    if kind == "postgresql":
        with scratch_database() as url:
            yield url
        return
    if keep is not None:
        keep.unlink(missing_ok=True)
        url = f"sqlite:///{keep.resolve()}"
        _prepare(url)
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="oaflow_scale_") as tmp:
        url = f"sqlite:///{tmp}/scale.db"
        _prepare(url)
        yield url


def _paths(now: datetime) -> list[str]:
    return endpoints(now.strftime("%Y-%m"), now.strftime("%Y-%m"),
                     (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m"))


def reuse(url: str) -> dict[str, float]:
    """Large-size p50 per endpoint on a database kept by an earlier `--keep` / `--keep-pg` run (no load)."""
    app = _app(url)
    now = datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003 - naive UTC like the app
    return {p: ms for p, (ms, _status) in measure(app, _paths(now)).items()}


def run(kind: str, size: str, log: Callable[[str], None] = print,  # noqa: PLR0913
        keep: Path | None = None, keep_pg: str | None = None) -> dict[str, tuple[float, float, int]]:
    """Demo-size and large-size p50 per endpoint on one database: {path: (demo ms, large ms, status)}."""
    from api.extensions import db
    from crm import demo
    from oa import demo_records
    with database(kind, keep if kind == "sqlite" else None, keep_pg) as url:
        app = _app(url)
        now = datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003 - naive UTC like the app
        paths = _paths(now)
        with app.app_context():
            demo_records.seed(db.session, progress=lambda m: None)
            demo.seed(db.session, progress=lambda m: None)
            db.session.commit()
            analyse(db.session)
        small = measure(app, paths)
        log(f"[{kind}] demo size measured; loading the {size} organisation ...")
        with app.app_context():
            began = time.perf_counter()
            took = generate(db.session, sizes(size), now)
            analyse(db.session)
            log(f"[{kind}] loaded in {time.perf_counter() - began:.0f} s: "
                + ", ".join(f"{k} {v:.1f}s" for k, v in took.items()))
        large = measure(app, paths)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return {p: (small[p][0], large[p][0], large[p][1]) for p in paths}


def main(argv: list[str] | None = None) -> None:
    """Run the scale benchmark and print p50 and growth per endpoint."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=("small", "full"), default="full")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--keep", type=Path, metavar="PATH",
                        help="build the SQLite database in PATH and leave it there (for profiling)")
    parser.add_argument("--reuse", type=Path, metavar="PATH",
                        help="only time the endpoints on a SQLite file kept by --keep (no load)")
    parser.add_argument("--keep-pg", metavar="NAME",
                        help="build the PostgreSQL database NAME and leave it there (for profiling)")
    parser.add_argument("--reuse-pg", metavar="NAME", help="only time the endpoints on a database kept by --keep-pg")
    parser.add_argument("--drop-pg", metavar="NAME", help="drop a database kept by --keep-pg")
    args = parser.parse_args(argv)
    if args.drop_pg:
        drop_pg(args.drop_pg)
        return
    if args.reuse or args.reuse_pg:
        url = pg_url(args.reuse_pg) if args.reuse_pg else f"sqlite:///{args.reuse.resolve()}"
        for path, ms in reuse(url).items():
            print(f"{path[:58]:58}{ms:9.1f}{'*' if ms > LIMIT_MS else ''}")
        return
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    results = {kind: run(kind, args.size, keep=args.keep, keep_pg=args.keep_pg) for kind in kinds}
    print(f"\nsize {args.size}: p50 ms at demo size -> at {args.size} size (growth = large / max(demo, "
          f"{FLOOR_MS:.0f} ms)); * = over {LIMIT_MS:.0f} ms or {LIMIT_GROWTH:.0f}x")
    header = f"{'endpoint':58}" + "".join(f"{k:>30}" for k in kinds)
    print(header)
    for path in results[kinds[0]]:
        cells = []
        for kind in kinds:
            demo_ms, large_ms, status = results[kind][path]
            ratio = growth(demo_ms, large_ms)
            flag = "*" if large_ms > LIMIT_MS or ratio > LIMIT_GROWTH else " "
            cells.append(f"{demo_ms:7.1f} -> {large_ms:7.1f} ({ratio:4.1f}x){flag}{status}")
        print(f"{path[:58]:58}" + "".join(f"{c:>30}" for c in cells))


if __name__ == "__main__":
    main()
