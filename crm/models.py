"""CRM tables: customers (with shares and a points ledger), contacts, opportunities, follow-ups, visit plans,
service tickets, contracts with receivable plans and payments, sales targets, settings and the audit trail.

Owners are usernames (as the engine names people); a customer with no owner sits in the public pool.
Money is Numeric(14, 2).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base, utcnow

Money = Numeric(14, 2)


class Customer(Base):
    """A company the sales team works with; `owner` None means it is in the public pool (公海)."""

    __tablename__ = "crm_customer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    name_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)  # normalised, for duplicates
    industry: Mapped[str | None] = mapped_column(String(100), index=True)
    region: Mapped[str | None] = mapped_column(String(100), index=True)
    level: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(50))
    phone_key: Mapped[str | None] = mapped_column(String(50), index=True)  # digits only
    owner: Mapped[str | None] = mapped_column(String(100), index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_follow_up_at: Mapped[datetime | None] = mapped_column(DateTime)
    released_at: Mapped[datetime | None] = mapped_column(DateTime)
    points: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    credit_limit: Mapped[Decimal | None] = mapped_column(Money)  # None: no limit set (finance sees no cap)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("crm_customer.id"))  # merged away: see this one
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)

    shares: Mapped[list[CustomerShare]] = relationship(cascade="all, delete-orphan", back_populates="customer")

    # covering index of the customer-distribution report (one GROUP BY in index order)
    __table_args__ = (Index("ix_crm_customer_dims", "industry", "region", "level", "owner"),)


class CustomerShare(Base):
    """A customer shared with a colleague, for reading or editing."""

    __tablename__ = "crm_customer_share"

    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id"), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    access: Mapped[str] = mapped_column(String(10), nullable=False, default="read")  # read | edit
    shared_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    customer: Mapped[Customer] = relationship(back_populates="shares")

    __table_args__ = (Index("ix_crm_customer_share_username", "username"),)


class Contact(Base):
    """A person at a customer."""

    __tablename__ = "crm_contact"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id"), index=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    title: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class Opportunity(Base):
    """A deal in the pipeline: stage and probability while open, then won or lost with a reason."""

    __tablename__ = "crm_opportunity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id"), index=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    stage: Mapped[str] = mapped_column(String(20), nullable=False, default="lead")
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    probability: Mapped[int] = mapped_column(Integer, nullable=False, default=10)
    expected_close_date: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(100))  # where the lead came from (referral, web, ...)
    # None: an open deal that went to the public pool with its customer (claiming the customer takes it over)
    owner: Mapped[str | None] = mapped_column(String(100), index=True, nullable=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open", index=True)
    close_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)

    customer: Mapped[Customer] = relationship()

    # covering indexes: the pipeline (stage, amount) and the forecast (open ones by close date) read no table row
    __table_args__ = (Index("ix_crm_opportunity_forecast", "status", "expected_close_date", "amount", "probability"),
                      Index("ix_crm_opportunity_stage_amount", "stage", "amount"),
                      Index("ix_crm_opportunity_status_closed_at", "status", "closed_at"))


class FollowUp(Base):
    """A call, visit, email or meeting with a customer; a next follow-up date triggers a reminder once."""

    __tablename__ = "crm_follow_up"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id"), index=True, nullable=False)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("crm_opportunity.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("crm_ticket.id"), index=True)  # the ticket it closes
    user: Mapped[str] = mapped_column(String(100), nullable=False)
    type: Mapped[str] = mapped_column(String(10), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    next_follow_up_date: Mapped[date | None] = mapped_column(Date)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    __table_args__ = (Index("ix_crm_follow_up_due", "next_follow_up_date", "reminder_sent_at"),
                      Index("ix_crm_follow_up_user_created_at", "user", "created_at"))


class VisitPlan(Base):
    """A planned customer visit (written by the customer_visit process)."""

    __tablename__ = "crm_visit_plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id"), index=True, nullable=False)
    user: Mapped[str] = mapped_column(String(100), nullable=False)
    visit_date: Mapped[date] = mapped_column(Date, nullable=False)
    purpose: Mapped[str | None] = mapped_column(Text)
    instance_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class Ticket(Base):
    """A service ticket or complaint with an SLA due time derived from its priority."""

    __tablename__ = "crm_ticket"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id"), index=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default="service")  # service | complaint
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(10), nullable=False, default="medium")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open", index=True)
    team: Mapped[str] = mapped_column(String(10), nullable=False, default="sales")  # sales | service
    assignee: Mapped[str | None] = mapped_column(String(100), index=True)
    sla_due_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    outcome: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)


class Contract(Base):
    """A contract with a customer; `paid_amount` is kept with a conditional UPDATE so it never exceeds `amount`."""

    __tablename__ = "crm_contract"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id"), index=True, nullable=False)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("crm_opportunity.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    paid_amount: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="draft")  # draft | active | closed
    owner: Mapped[str] = mapped_column(String(100), index=True, nullable=False)
    signed_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class ReceivablePlan(Base):
    """One instalment the customer is due to pay (回款计划)."""

    __tablename__ = "crm_receivable_plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("crm_contract.id"), index=True, nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    paid_amount: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    note: Mapped[str | None] = mapped_column(String(500))
    # an instalment of a confirmed order's payment terms: the pages word it from the order (number, terms) in
    # the reader's language; `note` stays what a person typed
    order_id: Mapped[int | None] = mapped_column(ForeignKey("crm_order.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    order: Mapped[SalesOrder | None] = relationship(foreign_keys=[order_id], lazy="selectin")

    __table_args__ = (Index("ix_crm_receivable_plan_due_date_id", "due_date", "id"),)  # the list's order


class Payment(Base):
    """Money received against a contract (and optionally one of its plans)."""

    __tablename__ = "crm_payment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("crm_contract.id"), index=True, nullable=False)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("crm_receivable_plan.id"))
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    paid_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class SalesTarget(Base):
    """A sales target for a period (YYYY-MM or YYYY-Qn) for the company, a team (a manager) or a rep."""

    __tablename__ = "crm_sales_target"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), nullable=False)
    scope: Mapped[str] = mapped_column(String(10), nullable=False)  # company | team | rep
    owner: Mapped[str] = mapped_column(String(100), nullable=False)  # "*" for the company
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    __table_args__ = (UniqueConstraint("period", "scope", "owner", name="uq_crm_sales_target_period_scope_owner"),)


class PointsEntry(Base):
    """One line of a customer's loyalty ledger: points earned (positive) or redeemed (negative)."""

    __tablename__ = "crm_points_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id"), index=True, nullable=False)
    delta: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("crm_payment.id"))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class CrmSetting(Base):
    """A CRM setting (pool days, claim cap) an administrator may change; defaults live in crm.settings."""

    __tablename__ = "crm_setting"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), nullable=False)


class AuditEntry(Base):
    """Who changed which field of which CRM record, when, from what to what."""

    __tablename__ = "crm_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(30), nullable=False)
    entity_id: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(20), nullable=False)  # create | update | delete | <verb>
    field: Mapped[str | None] = mapped_column(String(50))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    user: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    __table_args__ = (Index("ix_crm_audit_entity_entity_id", "entity", "entity_id"),)


# --- sales: products, quotes, orders, invoices, number sequences (issue #16) ---

Quantity = Numeric(14, 3)
Percent = Numeric(5, 2)


class Product(Base):
    """A catalogue product with its list price; an inactive product cannot go on new quotes or orders."""

    __tablename__ = "crm_product"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    unit: Mapped[str] = mapped_column(String(20), nullable=False, default="pcs")
    category: Mapped[str | None] = mapped_column(String(100), index=True)
    list_price: Mapped[Decimal] = mapped_column(Money, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class NumberSequence(Base):
    """The last number handed out for one series and year (`SO-2026`); bumped inside the caller's transaction,
    so numbers are gap-free (a rolled-back step gives its number back) and two writers never share one."""

    __tablename__ = "crm_number_sequence"

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Quote(Base):
    """A priced offer to a customer (optionally for an opportunity); totals are computed from its lines."""

    __tablename__ = "crm_quote"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(30), nullable=False, unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id"), index=True, nullable=False)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("crm_opportunity.id"), index=True)
    owner: Mapped[str] = mapped_column(String(100), index=True, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="draft")  # draft | ordered
    tax_rate: Mapped[Decimal] = mapped_column(Percent, nullable=False)
    subtotal: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    discount_total: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    tax: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    total: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class QuoteLine(Base):
    """One product on a quote: quantity, unit price, discount in percent and the net amount."""

    __tablename__ = "crm_quote_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("crm_quote.id"), index=True, nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("crm_product.id"), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Quantity, nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Money, nullable=False)
    discount: Mapped[Decimal] = mapped_column(Percent, nullable=False, default=0)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)


class SalesOrder(Base):
    """A sales order: draft -> pending (in approval) -> confirmed, or rejected (revise, resubmit) / cancelled."""

    __tablename__ = "crm_order"
    # won revenue of a period adds the orders confirmed in it without an opportunity (crm.sales_reports)
    __table_args__ = (Index("ix_crm_order_status_confirmed_at", "status", "confirmed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(30), nullable=False, unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id"), index=True, nullable=False)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("crm_opportunity.id"), index=True)
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("crm_quote.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("crm_contract.id"), index=True)
    owner: Mapped[str] = mapped_column(String(100), index=True, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="draft", index=True)
    payment_terms: Mapped[str] = mapped_column(String(20), nullable=False, default="net30")
    tax_rate: Mapped[Decimal] = mapped_column(Percent, nullable=False)
    subtotal: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    discount_total: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    tax: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    total: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    max_discount: Mapped[Decimal] = mapped_column(Percent, nullable=False, default=0)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    round: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)


class OrderLine(Base):
    """One product on an order (as on a quote line)."""

    __tablename__ = "crm_order_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("crm_order.id"), index=True, nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("crm_product.id"), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Quantity, nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Money, nullable=False)
    discount: Mapped[Decimal] = mapped_column(Percent, nullable=False, default=0)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)


class OrderRound(Base):
    """One approval round of an order: submitted, then approved or rejected (with the reason) by someone."""

    __tablename__ = "crm_order_round"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("crm_order.id"), index=True, nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False)
    total: Mapped[Decimal] = mapped_column(Money, nullable=False)
    submitted_by: Mapped[str | None] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    outcome: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")  # pending|approved|rejected
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("order_id", "round", name="uq_crm_order_round_order_id_round"),)


class Invoice(Base):
    """An invoice issued against a confirmed order (amount includes tax)."""

    __tablename__ = "crm_invoice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(30), nullable=False, unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("crm_order.id"), index=True, nullable=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("crm_customer.id"), index=True, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    tax: Mapped[Decimal] = mapped_column(Money, nullable=False)
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    issued_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

class CustomerRfm(Base):
    """A customer's transaction summary for the RFM segments report (crm.rfm keeps it): the latest transaction
    date over all history, and the count and payments of the window ending `as_of`. A customer without a row has
    never had a transaction."""

    __tablename__ = "crm_customer_rfm"

    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_tx_on: Mapped[date | None] = mapped_column(Date)
    frequency: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    monetary: Mapped[Decimal] = mapped_column(Money, nullable=False, default=0)
    as_of: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)


class CustomerGram(Base):
    """One character bigram of a customer's name, phone digits or a contact's name (crm.search keeps them), so
    a Chinese two-character query is an index look-up on both databases."""

    __tablename__ = "crm_customer_gram"

    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)

    __table_args__ = (Index("ix_crm_customer_gram_customer_id", "customer_id"),)
