"""The fixed option lists of the CRM forms (industry, region, source, level, stages, ticket and contract states)
with their translatable labels: the stored value is the key, the page shows the label in the reader's language.

A stored value outside a list (an older record, an import) is still shown as it is and stays selectable on its
edit form, so editing a record never silently drops its value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from api.web.config import LANGUAGES
from api.web.people import person
from crm import contracts as contracts_svc
from crm import opportunities as opportunities_svc
from crm import tickets as tickets_svc

INDUSTRIES = {"manufacturing": _l("Manufacturing"), "retail": _l("Retail"), "technology": _l("Technology"),
              "energy": _l("Energy"), "logistics": _l("Logistics"), "healthcare": _l("Healthcare"),
              "finance": _l("Finance"), "food": _l("Food"), "education": _l("Education"),
              "construction": _l("Construction"), "government": _l("Government"), "other": _l("Other")}
REGIONS = {"north": _l("North"), "east": _l("East"), "south": _l("South"), "west": _l("West"),
           "central": _l("Central"), "overseas": _l("Overseas")}
SOURCES = {"referral": _l("Referral"), "web": _l("Website"), "trade show": _l("Trade show"),
           "cold call": _l("Cold call"), "advertising": _l("Advertising"), "partner": _l("Partner"),
           "other": _l("Other")}
LEVELS = {"A": _l("A — key account"), "B": _l("B — important"), "C": _l("C — regular"), "D": _l("D — small")}
STAGES = {"lead": _l("Lead"), "qualified": _l("Qualified"), "proposal": _l("Proposal"),
          "negotiation": _l("Negotiation"), "won": _l("Won"), "lost": _l("Lost")}
OPEN_STAGES = {k: STAGES[k] for k in opportunities_svc.OPEN_STAGES}
OPPORTUNITY_STATUSES = {"open": _l("In progress"), "won": _l("Won"), "lost": _l("Lost")}
CONTRACT_STATUSES = {"draft": _l("Draft"), "active": _l("Active"), "closed": _l("Closed")}
TICKET_STATUSES = {"open": _l("Open"), "in_progress": _l("In progress"), "resolved": _l("Resolved"),
                   "closed": _l("Closed")}
TICKET_PRIORITIES = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High"), "urgent": _l("Urgent")}
TICKET_KINDS = {"service": _l("Service"), "complaint": _l("Complaint")}
TICKET_TEAMS = {"sales": _l("Sales"), "service": _l("Service")}
AUDIT_ACTIONS = {"create": _l("Record created"), "update": _l("Changed"), "delete": _l("Deleted"),
                 "claim": _l("Claimed from the pool"), "release": _l("Released to the pool"),
                 "transfer": _l("Transferred"), "payment": _l("Payment recorded"), "won": _l("Won"), "lost": _l("Lost"),
                 "activate": _l("Activated"), "close": _l("Closed"), "handoff": _l("Handed off"),
                 "handover": _l("Handed over"), "merge": _l("Merged"), "read via task": _l("Read via a task"),
                 "share": _l("Shared"),
                 "unshare": _l("Share withdrawn"), "redeem": _l("Points redeemed"), "set": _l("Set"),
                 # orders and invoices (crm.orders, crm.invoices) and the credit limit (api/routes/orders.py)
                 "submit": _l("Submitted for approval"), "ordered": _l("Order placed"), "confirm": _l("Confirmed"),
                 "reject": _l("Rejected"), "withdraw": _l("Withdrawn"), "cancel": _l("Cancelled"),
                 "issue": _l("Invoice issued"), "invoice": _l("Invoiced"), "credit_limit": _l("Credit limit set")}

assert set(CONTRACT_STATUSES) == set(contracts_svc.STATUSES)
assert set(TICKET_STATUSES) == set(tickets_svc.STATUSES)
assert set(TICKET_PRIORITIES) >= set(tickets_svc.PRIORITIES)

LABELS: dict[str, Mapping[str, object]] = {
    "industry": INDUSTRIES, "region": REGIONS, "source": SOURCES, "level": LEVELS, "stage": STAGES,
    "opportunity_status": OPPORTUNITY_STATUSES, "contract_status": CONTRACT_STATUSES,
    "ticket_status": TICKET_STATUSES, "priority": TICKET_PRIORITIES, "kind": TICKET_KINDS, "team": TICKET_TEAMS,
    "action": AUDIT_ACTIONS,
}


def choice(kind: str, value: object) -> str:
    """The label of `value` in the list `kind` in the reader's language, or the value itself if unlisted."""
    if value is None or value == "":
        return ""
    found = LABELS[kind].get(str(value))
    return str(found) if found is not None else str(value)


def options(kind: str, current: object = None) -> list[tuple[str, str]]:
    """(value, label) pairs for a select of `kind`, plus the record's `current` value if it is not listed."""
    pairs = [(key, str(text)) for key, text in LABELS[kind].items()]
    if current not in (None, "") and str(current) not in LABELS[kind]:
        pairs.append((str(current), str(current)))
    return pairs


FIELD_KINDS = {"stage": "stage", "industry": "industry", "region": "region", "source": "source", "level": "level",
               "priority": "priority", "kind": "kind", "team": "team"}
PERSON_FIELDS = ("owner", "assignee", "created_by", "user")  # usernames: shown as display names
STATUS_KINDS = {"opportunity": "opportunity_status", "contract": "contract_status", "ticket": "ticket_status"}


# audited fields holding a moment (stored as naive-UTC ISO text), a day, or money
MOMENT_FIELDS = frozenset({"closed_at", "sla_due_at", "last_follow_up_at", "created_at", "claimed_at", "released_at"})
DAY_FIELDS = frozenset({"expected_close_date", "signed_date", "due_date", "start_date", "end_date"})
MONEY_FIELDS = frozenset({"amount", "paid_amount", "credit_limit", "total", "outstanding"})


_WON_BY_APPROVAL = re.compile(r"approved by contract approval(?: #(\d+))?")


def close_reason_text(reason: str | None) -> str:
    """An opportunity's close reason as the reader reads it: the one a contract approval writes is translated
    and names the request; what a person typed is shown as typed."""
    if not reason:
        return "—"
    found = _WON_BY_APPROVAL.fullmatch(reason)
    if found is None:
        return reason
    if found.group(1):
        return str(_l("Approved in contract approval #%(id)s", id=found.group(1)))
    return str(_l("Approved in contract approval"))


def field_value(entity: str, field: str | None, value: object) -> str:
    """An audited field's old or new value as the reader should see it: enum keys translated, moments in the
    company time zone and days in the reader's format, money with two decimals and separators."""
    from api.web.approvals.task_view import fmt_money
    from api.web.formatting import format_date, format_datetime
    if value is None or value == "":
        return "—"
    if field in PERSON_FIELDS:
        return person(value)
    if field in MOMENT_FIELDS and isinstance(value, str):
        try:
            return format_datetime(datetime.fromisoformat(value))
        except ValueError:
            return value
    if field in DAY_FIELDS and isinstance(value, str):
        return format_date(value)
    if field in MONEY_FIELDS:
        try:
            return fmt_money(Decimal(str(value)))
        except (ArithmeticError, ValueError):
            return str(value)
    if field == "close_reason":
        return close_reason_text(str(value))
    kind = STATUS_KINDS.get(entity) if field == "status" else FIELD_KINDS.get(field or "")
    return choice(kind, value) if kind else str(value)


FIELD_LABELS = {"file": _l("File"), "name": _l("Name"), "industry": _l("Industry"), "region": _l("Region"),
                "level": _l("Level"), "source": _l("Source"), "phone": _l("Phone"), "owner": _l("Owner"),
                "stage": _l("Stage"),
                "amount": _l("Amount"), "probability": _l("Probability"), "expected_close_date": _l("Expected close"),
                "status": _l("Status"), "close_reason": _l("Reason"), "closed_at": _l("Closed"), "title": _l("Title"),
                "paid_amount": _l("Paid"), "signed_date": _l("Signed on"), "priority": _l("Priority"),
                "assignee": _l("Assignee"), "description": _l("Description"), "outcome": _l("Outcome"),
                "satisfaction": _l("Satisfaction"), "team": _l("Team"), "kind": _l("Kind"), "due_date": _l("Due date"),
                "note": _l("Note"), "points": _l("Points"), "email": _l("Email"), "sla_due_at": _l("SLA due"),
                "credit_limit": _l("Credit limit"), "reason": _l("Reason"), "task": _l("Task")}


IMPORT_OPTION_FIELDS = ("industry", "region", "source", "level")
LEVEL_WORDS = ("{key}级", "{key}类", "level {key}")  # how people write a level beside the list's own labels


def import_aliases() -> dict[str, dict[str, str]]:
    """{field: {casefolded key or label: key}} of the customer import's option fields, with the labels in every
    language the pages speak (制造业 and "Manufacturing" both mean `manufacturing`), for crm.importer."""
    return _aliases(tuple(sorted(LANGUAGES)))


@lru_cache(maxsize=4)
def _aliases(languages: tuple[str, ...]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for field in IMPORT_OPTION_FIELDS:
        names: dict[str, str] = {}
        for key, label in LABELS[field].items():
            names[key.casefold()] = key
            for lang in languages:
                with force_locale(lang):
                    names.setdefault(str(label).strip().casefold(), key)
            if field == "level":
                for word in LEVEL_WORDS:
                    names.setdefault(word.format(key=key).casefold(), key)
        out[field] = names
    return out


IMPORT_COLUMNS = ("name", "industry", "region", "level", "source", "phone")  # crm.customers.FIELDS, in file order


def import_headers() -> dict[str, str]:
    """{casefolded column label: column key} of the customer import in every language the pages speak (名称 and
    "Name" both mean `name`), for crm.importer.with_column_keys; so a file the export wrote in Chinese imports."""
    return dict(_headers(tuple(sorted(LANGUAGES))))


@lru_cache(maxsize=4)
def _headers(languages: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out: dict[str, str] = {}
    for key in IMPORT_COLUMNS:
        for lang in languages:
            with force_locale(lang):
                out.setdefault(str(FIELD_LABELS[key]).strip().casefold(), key)
    return tuple(out.items())


def field_label(field: str | None) -> str:
    """An audited field's name in the reader's language (the raw name if it has no label)."""
    found = FIELD_LABELS.get(field or "")
    return str(found) if found is not None else str(field or "")
