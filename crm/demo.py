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
from crm.ownership import release_customer
from crm.targets import set_target
from crm.tickets import create_ticket
from store.base import utcnow
from store.clock import company_date

FINANCE = Viewer("carol", finance=True)  # the demo's finance clerk records the payments received

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
# in the public pool (公海) from the start, released by their former rep: something for a rep to claim
POOL_CUSTOMERS = [
    ("Blue Yonder Airlines", "logistics", "east", "C", "web", "bob", "no reply for two months"),
    ("Coho Winery", "retail", "south", "D", "trade show", "alice", "outside my region"),
    ("Margie's Travel", "retail", "north", "C", "cold call", "bob", "contact left the company"),
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
    today = company_date()
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
        record_payment(session, FINANCE, contract.id, {"amount": half, "plan_id": plan.id,
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
            record_payment(session, FINANCE, contract.id, {"amount": paid,
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
    for name, industry, region, level, source, former, reason in POOL_CUSTOMERS:
        c = create_customer(session, Viewer(former), {
            "name": name, "industry": industry, "region": region, "level": level, "source": source,
            "phone": f"+86 21 {len(customers) + 1:04d} 8800"})
        customers.append(c)
        release_customer(session, Viewer(former), c.id, reason)
    session.flush()
    progress(f"CRM: {len(customers)} customers ({len(POOL_CUSTOMERS)} in the public pool), "
             f"{len(OPPORTUNITIES)} opportunities, {len(won) + len(DIRECT_CONTRACTS)} contracts, targets")
    return len(customers)


# --- sales: products, quotes, orders in every state, invoices, an overdue order receivable (issue #16) ---

PRODUCTS = [  # code, name, unit, category, list price
    ("HW-SCAN-01", "Handheld scanner", "pcs", "hardware", "1200.00"),
    ("HW-KIOSK-02", "Self-service kiosk", "pcs", "hardware", "18000.00"),
    ("SW-ERP-LIC", "ERP licence (per seat)", "seat", "software", "3500.00"),
    ("SW-CRM-LIC", "CRM licence (per seat)", "seat", "software", "1800.00"),
    ("SV-INSTALL", "Installation service", "day", "services", "2400.00"),
    ("SV-SUPPORT", "Annual support", "year", "services", "9600.00"),
]
# customer name, lines [(product code, quantity, discount %)], payment terms, the state to reach
DEMO_ORDERS = [
    ("Northwind Trading", [("HW-SCAN-01", 20, 5), ("SV-INSTALL", 2, 0)], "net30", "draft"),
    ("Contoso Manufacturing", [("HW-KIOSK-02", 6, 0), ("SV-SUPPORT", 2, 0)], "30_70", "pending"),
    ("Fabrikam Energy", [("SW-ERP-LIC", 12, 15)], "net60", "rejected"),
    ("Tailspin Logistics", [("SW-CRM-LIC", 5, 0), ("SV-INSTALL", 1, 0)], "prepaid", "confirmed"),
    ("Wide World Importers", [("HW-SCAN-01", 3, 0)], "net30", "cancelled"),
]
OVERDUE_DAYS = 20  # the confirmed demo order's instalment fell due this many days ago and is unpaid


class _FlowDriver:
    """Moves demo orders through the real sales_order_approval flow (when the engine has it deployed)."""

    def __init__(self, session: Session, engine: object) -> None:
        self.session, self.engine = session, engine

    def _actor(self, username: str) -> object:
        from engine.runtime import Actor
        from oa.models import User
        user = self.session.scalar(select(User).where(User.username == username))
        return Actor(username, frozenset(user.roles or []), frozenset(g.name for g in user.groups))

    def submit(self, order: object, user: str) -> None:
        from crm.orders import PROCESS_KEY
        self.engine.start(self.session, PROCESS_KEY, self._actor(user), {"order_id": order.id},
                          business_key=f"order:{order.id}")
        self.session.refresh(order)

    def complete(self, order: object, element_id: str, user: str, **variables: object) -> None:
        from engine.models import Task
        task = self.session.scalar(select(Task).where(Task.instance_id == order.instance_id,
                                                      Task.element_id == element_id, Task.status == "open"))
        self.engine.complete(self.session, task.id, self._actor(user), variables)
        self.session.refresh(order)


def _drive_with_flow(flow: _FlowDriver, order: object, state: str, today: date) -> None:
    flow.submit(order, order.owner)
    if state == "rejected":
        flow.complete(order, "sales_head_approval", "bob", approved=True)
        flow.complete(order, "finance_review", "carol", approved=False,
                      comment="15% is above our discount policy; outstanding receivables too high")
    elif state == "confirmed":
        flow.complete(order, "sales_head_approval", "bob", approved=True)
        flow.complete(order, "invoice_request", "carol", issued_on=today.isoformat())
    elif state == "cancelled":
        flow.complete(order, "sales_head_approval", "bob", approved=False, comment="duplicate of a phone order")
        flow.complete(order, "revise", order.owner, resubmit=False)


def _drive_without_flow(session: Session, order: object, state: str) -> None:
    from crm.invoices import issue_invoice
    from crm.orders import confirm, mark_cancelled, mark_rejected, mark_submitted
    mark_submitted(session, order.id, order.owner, None)
    if state in ("rejected", "cancelled"):
        mark_rejected(session, order.id, "carol", "15% is above our discount policy")
    if state == "cancelled":
        mark_cancelled(session, order.id, order.owner)
    if state == "confirmed":
        confirm(session, order.id, "bob")
        issue_invoice(session, order.id, "carol")


def seed_sales(session: Session, progress: Callable[[str], None] = print, engine: object = None) -> int:
    """Products, quotes and orders in every state (through the approval flow when `engine` has it deployed, else
    straight through the domain), invoices and an overdue order instalment; returns how many orders it made."""
    from crm.models import Product, ReceivablePlan, SalesOrder
    from crm.orders import create_order, order_from_quote
    from crm.quotes import create_quote
    from store.errors import DomainError
    if session.scalar(select(Product.id).where(Product.code == PRODUCTS[0][0])) is not None:
        progress("sales demo data already present")
        return 0
    today = company_date()
    products = {}
    for code, name, unit, category, price in PRODUCTS:
        products[code] = Product(code=code, name=name, unit=unit, category=category, list_price=Decimal(price),
                                 active=True, created_at=utcnow())
        session.add(products[code])
    session.flush()
    customers = {c.name: c for c in session.scalars(select(Customer))}
    if any(name not in customers for name, *_ in DEMO_ORDERS):
        progress("sales demo needs the CRM demo customers; skipped orders")
        return 0
    flow = _FlowDriver(session, engine) if engine is not None else None
    made = 0
    for n, (name, lines, terms, state) in enumerate(DEMO_ORDERS):
        customer = customers[name]
        rep = Viewer(customer.owner)
        raw = [{"product_id": products[code].id, "quantity": qty, "discount": off} for code, qty, off in lines]
        if n == 0:  # the draft comes from a quote; a second quote stays open
            opp = session.scalar(select(Opportunity).where(Opportunity.customer_id == customer.id,
                                                           Opportunity.status == "open"))
            quote = create_quote(session, rep, {"customer_id": customer.id, "opportunity_id": opp and opp.id,
                                                "lines": raw})
            order = order_from_quote(session, rep, quote.id, {"payment_terms": terms})
            create_quote(session, rep, {"customer_id": customer.id, "lines": raw[:1], "note": "option B"})
        else:
            order = create_order(session, rep, {"customer_id": customer.id, "lines": raw, "payment_terms": terms})
        made += 1
        if state == "draft":
            continue
        if flow is not None:
            session.commit()
            try:
                _drive_with_flow(flow, order, state, today)
            except DomainError as err:  # the flow is not deployed (or refused): set the state directly
                progress(f"order {order.number} not sent through the flow: {err}")
                session.rollback()
        order = session.get(SalesOrder, order.id)
        if order.status == "draft":
            _drive_without_flow(session, order, state)
        if state == "confirmed":  # backdate it: its instalment is overdue
            session.refresh(order)
            for plan in session.scalars(select(ReceivablePlan).where(ReceivablePlan.contract_id == order.contract_id)):
                plan.due_date = today - timedelta(days=OVERDUE_DAYS)
    session.flush()
    progress(f"sales: {len(PRODUCTS)} products, 2 quotes, {made} orders (draft, pending, rejected, confirmed, "
             "cancelled), an invoice and an overdue order instalment")
    return made
