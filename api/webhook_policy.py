"""The app's webhook delivery policy: an event reaches a webhook only if its owner may read what it is about,
by the same rules the API uses (engine.can_read_instance; a notification only its own user; a CRM record
event — payload {"entity", "id"} — the CRM data scope, crm.access; an order or invoice event whoever may read
its customer); admin-owned webhooks see everything. Private targets are allowed only with
OAFLOW_WEBHOOK_ALLOW_PRIVATE=1."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import actor_of
from engine.models import ProcessInstance
from engine.webhooks import DeliveryPolicy
from oa.models import User
from store.errors import DomainError


def owner_may_see(app: Flask, session: Session, owner: str, event: str, payload: dict[str, Any]) -> bool:
    """May the webhook owner `owner` read what `event` with `payload` is about? Unknown shapes: admins only."""
    user = session.scalar(select(User).where(User.username == owner))
    if user is None or not user.active:
        return False
    actor = actor_of(user)
    if actor.is_admin:
        return True
    if event == "notification":
        return payload.get("user") == owner
    if "entity" in payload:
        return may_read_record(session, user, payload.get("entity"), payload.get("id"))
    instance_id = payload.get("instance_id")
    if isinstance(instance_id, int) and not isinstance(instance_id, bool):
        inst = session.get(ProcessInstance, instance_id)
        if inst is not None and app.extensions["oaflow_engine"].can_read_instance(session, inst, actor):
            return True
    return event.startswith(CUSTOMER_EVENTS) and _may_read_customer(session, owner, payload.get("customer_id"))


CUSTOMER_EVENTS = ("order.", "invoice.")  # events about a customer's records: whoever may read the customer


def _may_read_customer(session: Session, owner: str, customer_id: Any) -> bool:
    """May `owner` read the customer (by the CRM data scope, without task grants)?"""
    if not isinstance(customer_id, int) or isinstance(customer_id, bool):
        return False
    from crm.access import can_read_customer, viewer_for
    from crm.models import Customer
    customer = session.get(Customer, customer_id)
    return customer is not None and customer.owner is not None and can_read_customer(
        session, viewer_for(session, owner), customer)


def may_read_record(session: Session, user: User, entity: Any, record_id: Any) -> bool:
    """May `user` read CRM record `entity` `record_id` now (by the API's rules, without task grants)?"""
    from crm.access import can_read_customer, get_opportunity, viewer_for
    from crm.contracts import get_contract
    from crm.models import Customer
    from crm.tickets import get_ticket
    if not isinstance(record_id, int) or isinstance(record_id, bool):
        return False
    viewer = viewer_for(session, user)
    if entity == "customer":
        customer = session.get(Customer, record_id)
        return customer is not None and can_read_customer(session, viewer, customer)
    getters = {"opportunity": get_opportunity, "contract": get_contract, "ticket": get_ticket}
    if entity not in getters:
        return False
    try:
        getters[entity](session, viewer, record_id)
    except DomainError:
        return False
    return True


def delivery_policy(app: Flask) -> DeliveryPolicy:
    """The policy for `app`, with the private-target switch as its settings say now."""
    settings = app.config["OAFLOW_SETTINGS"]
    return DeliveryPolicy(may_see=lambda session, owner, event, payload: owner_may_see(
        app, session, owner, event, payload), allow_private=settings.webhook_allow_private)
