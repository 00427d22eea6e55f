"""Demo CRM data for `oaflow seed-demo`: customers of alice and bob across industries and regions, opportunities
in every stage, follow-ups, contracts with plans and payments, a ticket and targets, so every report shows
something on first run. Deals, contracts, payments and follow-ups are dated over the past months (not all
"now"), so the RFM segments show variety: a high-value, a potential, an at-risk and a lost customer beside the
prospects, and one instalment is overdue. Idempotent: customers are matched by name and nothing is added twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.access import Viewer
from crm.contracts import add_plan, record_payment
from crm.customers import create_customer, name_key
from crm.follow_ups import record_follow_up
from crm.models import Contract, Customer, Opportunity, SalesTarget, Ticket
from crm.opportunities import STAGES, mark_won
from crm.targets import set_target
from crm.tickets import create_ticket
from store.base import utcnow

# name, industry, region, level, source, owner
CUSTOMERS = [
    ("Northwind Trading", "retail", "north", "A", "referral", "alice"),
    ("Contoso Manufacturing", "manufacturing", "east", "A", "trade show", "alice"),
    ("Fabrikam Energy", "energy", "west", "B", "web", "alice"),
    ("Tailspin Logistics", "logistics", "south", "C", "cold call", "alice"),
    ("Adventure Works", "retail", "east", "B", "web", "bob"),
    ("Litware Software", "technology", "north", "A", "referral", "bob"),
    ("Proseware Health", "healthcare", "south", "C", "trade show", "bob"),
    ("Wide World Importers", "logistics", "west", "D", "web", "alice"),
]
# customer index, name, stage, amount, months ahead
OPPORTUNITIES = [
    (0, "Store fit-out", "lead", 20000, 2), (1, "Line automation", "qualified", 120000, 1),
    (2, "Solar roof", "proposal", 80000, 1), (3, "Fleet tracking", "negotiation", 45000, 0),
    (4, "POS upgrade", "proposal", 30000, 2), (5, "ERP licences", "negotiation", 150000, 1),
    (6, "Clinic CRM", "lead", 25000, 3), (7, "Warehouse scanners", "qualified", 18000, 2),
    (1, "Spare parts 2026", "won", 60000, 0), (5, "Support renewal", "won", 40000, 0),
    (0, "Loyalty kiosks", "lost", 15000, 0),
]
# days ago each closed deal was won or lost (in OPPORTUNITIES order); "recent" stays inside the current month
CLOSED_DAYS_AGO = {"Spare parts 2026": "recent", "Support renewal": 150, "Loyalty kiosks": 45}
# contracts signed without a pipeline deal: customer index, title, amount, signed days ago, [(paid days ago, amount)]
DIRECT_CONTRACTS = [
    (2, "Solar maintenance 2026", 240000, 75, [(70, 120000)]),  # big and recent: high value
    (0, "Shop fittings 2025", 20000, 300, [(280, 20000)]),  # nothing since: lost
]


def _at(day: date) -> datetime:
    """A working-hours moment on `day` (naive UTC, as stored)."""
    return datetime.combine(day, time(10, 30))


def seed(session: Session, progress: Callable[[str], None] = print) -> int:
    """Create the demo CRM records if they are not there yet; returns how many customers were created."""
    if session.scalar(select(Customer.id).where(Customer.name_key == name_key(CUSTOMERS[0][0]))) is not None:
        progress("CRM demo data already present")
        return 0
    today = utcnow().date()
    customers = []
    for name, industry, region, level, source, owner in CUSTOMERS:
        customers.append(create_customer(session, Viewer(owner), {
            "name": name, "industry": industry, "region": region, "level": level, "source": source,
            "phone": f"+86 21 {len(customers) + 1:04d} 8800"}))
    for i, c in enumerate(customers):
        # two conversations per customer over the past months; the latest within the pool release age (30 days)
        for back in (13 * i + 40, 3 * i + 2):
            record_follow_up(session, c, c.owner, ("call", "visit", "email", "meeting")[(i + back) % 4],
                             f"Talked about next year's needs with {c.name}",
                             today + timedelta(days=7 + i) if back == 3 * i + 2 else None,
                             satisfaction=3 + (i + back) % 3, now=_at(today - timedelta(days=back)))
    won = []
    for idx, name, stage, amount, ahead in OPPORTUNITIES:
        c = customers[idx]
        close = date(today.year + (today.month + ahead - 1) // 12, (today.month + ahead - 1) % 12 + 1, 15)
        opp = Opportunity(customer_id=c.id, name=name, stage="lead" if stage in ("won", "lost") else stage,
                          amount=Decimal(amount), probability=STAGES[stage], expected_close_date=close,
                          owner=c.owner, status="open")
        session.add(opp)
        session.flush()
        back = CLOSED_DAYS_AGO.get(name, 0)
        closed = max(today.replace(day=1), today - timedelta(days=3)) if back == "recent" \
            else today - timedelta(days=back)
        if stage == "won":
            won.append((mark_won(session, opp, c.owner, "demo: signed", f"{name} contract", now=_at(closed)),
                        closed))
        elif stage == "lost":
            opp.status, opp.stage, opp.probability, opp.close_reason, opp.closed_at = (
                "lost", "lost", 0, "demo: lost on price", _at(closed))
    for contract, signed in won:  # two instalments: the first due soon after signing and paid, the second later
        owner = Viewer(contract.owner)
        half = (Decimal(str(contract.amount)) / 2).quantize(Decimal("0.01"))
        first_due = max(signed, min(signed + timedelta(days=30), today - timedelta(days=1)))
        plan = add_plan(session, owner, {"contract_id": contract.id, "due_date": first_due, "amount": half})
        add_plan(session, owner, {"contract_id": contract.id, "due_date": signed + timedelta(days=120),
                                  "amount": half})  # the older deal's second instalment is overdue
        record_payment(session, owner, contract.id, {"amount": half, "plan_id": plan.id,
                                                     "paid_on": min(first_due, today)})
    for idx, title, amount, signed_back, payments in DIRECT_CONTRACTS:
        c = customers[idx]
        signed = today - timedelta(days=signed_back)
        contract = Contract(customer_id=c.id, title=title, amount=Decimal(amount), paid_amount=Decimal("0"),
                            status="active", owner=c.owner, signed_date=signed, created_at=_at(signed))
        session.add(contract)
        session.flush()
        add_plan(session, Viewer(c.owner), {"contract_id": contract.id, "due_date": signed + timedelta(days=10),
                                            "amount": Decimal(amount)})
        for paid_back, paid in payments:
            record_payment(session, Viewer(c.owner), contract.id, {"amount": paid,
                                                                   "paid_on": today - timedelta(days=paid_back)})
    if session.scalar(select(Ticket.id).limit(1)) is None:
        create_ticket(session, Viewer("alice"), {"customer_id": customers[1].id, "title": "Delivery delayed",
                                                 "priority": "high", "kind": "complaint"})
    period = f"{today.year:04d}-{today.month:02d}"
    if session.scalar(select(SalesTarget.id).where(SalesTarget.period == period)) is None:
        admin = Viewer("admin", is_admin=True)
        set_target(session, admin, period, "company", None, 500000)
        set_target(session, admin, period, "team", "bob", 300000)
        set_target(session, admin, period, "rep", "alice", 150000)
        set_target(session, admin, period, "rep", "bob", 100000)
    session.flush()
    progress(f"CRM: {len(customers)} customers, {len(OPPORTUNITIES)} opportunities, "
             f"{len(won) + len(DIRECT_CONTRACTS)} contracts, targets")
    return len(customers)
