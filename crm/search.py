"""Customer search that stays an index look-up at any size and in any script (Chinese included).

Every customer has its character bigrams in crm_customer_gram: of its normalised name, its phone digits and its
contacts' names. A query of two or more characters becomes "customers having every bigram of the query" (an
index range per bigram, intersected), then the exact substring check on those few candidates. The rows are
kept in the same transaction as the writes that change a customer's name or phone or a contact (an ORM flush
event), and the importer writes through the same ORM objects. Bulk loads through Core call `reindex`.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, delete, event, exists, func, insert, inspect, or_, select, text
from sqlalchemy.orm import Session

from crm.models import Contact, Customer, CustomerGram

_CHUNK = 500


def normalise(text: str | None) -> str:
    """Case-folded, whitespace collapsed (as customer name keys are)."""
    return re.sub(r"\s+", " ", text or "").strip().casefold()


def grams(text: str | None) -> set[str]:
    """The character bigrams of a text after `normalise`."""
    norm = normalise(text)
    return {norm[i:i + 2] for i in range(len(norm) - 1)}


def reindex(session: Session, ids: set[int] | None = None) -> None:
    """Rewrite the bigrams of these customers (of all, if None) in the caller's transaction."""
    conn = session.connection()  # Core statements: safe inside a flush event
    chunks = [None] if ids is None else [sorted(ids)[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
    for chunk in chunks:
        texts: dict[int, set[str]] = {}
        people = select(Customer.id, Customer.name_key, Customer.phone_key)
        contacts = select(Contact.customer_id, Contact.name)
        if chunk is not None:
            people, contacts = people.where(Customer.id.in_(chunk)), contacts.where(Contact.customer_id.in_(chunk))
        if conn.dialect.name == "postgresql":  # two writers re-indexing one customer take turns
            conn.execute(text("LOCK TABLE crm_customer_gram IN EXCLUSIVE MODE") if chunk is None else
                         select(Customer.id).where(Customer.id.in_(chunk)).order_by(Customer.id)
                         .with_for_update(key_share=True))
        conn.execute(delete(CustomerGram) if chunk is None else delete(CustomerGram).where(
            CustomerGram.customer_id.in_(chunk)))
        for cid, name, phone in conn.execute(people):
            texts.setdefault(cid, set()).update(grams(name) | grams(phone))
        for cid, name in conn.execute(contacts):
            if cid in texts:
                texts[cid].update(grams(name))
        rows = [{"gram": g, "customer_id": cid} for cid, gs in texts.items() for g in gs]
        for i in range(0, len(rows), 5000):
            conn.execute(insert(CustomerGram), rows[i:i + 5000])


def matches(query: str) -> ColumnElement:
    """SQL condition: the customer's name, phone or a contact's name contains `query` (case-insensitive)."""
    norm = normalise(query)
    digits = re.sub(r"\D", "", norm)
    contact_hit = exists().where(Contact.customer_id == Customer.id, func.lower(Contact.name).contains(
        norm, autoescape=True))
    text_hit = or_(Customer.name_key.contains(norm, autoescape=True), contact_hit,
                   *([Customer.phone_key.contains(digits, autoescape=True)] if digits == norm.replace(" ", "")
                     and digits else []))
    wanted = grams(norm)
    if not wanted:  # one character: no bigram to look up, the substring check alone
        return text_hit
    having = (select(CustomerGram.customer_id).where(CustomerGram.gram.in_(sorted(wanted)))
              .group_by(CustomerGram.customer_id).having(func.count() == len(wanted)))
    return Customer.id.in_(having) & text_hit


@event.listens_for(Session, "after_flush")
def _track(session: Session, _ctx: Any) -> None:
    """Re-index customers whose name or phone changed, and those whose contacts changed, in this flush."""
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Customer) and obj.id is not None and (
                obj in session.new or obj in session.deleted
                or any(inspect(obj).attrs[a].history.has_changes() for a in ("name_key", "phone_key"))):
            ids.add(obj.id)
        elif isinstance(obj, Contact) and obj.customer_id is not None:
            ids.add(obj.customer_id)
    if ids:
        reindex(session, ids)
