"""Data scope for CRM records: who may read and edit which customer and what hangs off it.

- an administrator reads and edits everything;
- a rep reads and edits their own customers and opportunities, and customers shared with them
  (read-only or editable, as shared);
- a manager also reads and edits what everyone below them in the org chart owns (OrgDirectory.reports_of);
- customers in the public pool (no owner) are readable by everyone; they are edited after a claim.
Guessing the id of a record outside one's scope answers NotFound, never Forbidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from crm.models import Customer, CustomerShare, Opportunity
from oa.models import User
from oa.org import OrgDirectory
from store.errors import NotFound


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a username, whether they administer, and the owners whose records they see."""

    username: str
    is_admin: bool = False
    team: frozenset[str] = frozenset()  # everyone below the viewer in the org chart

    @property
    def owners(self) -> frozenset[str]:
        """Owners whose records the viewer sees by scope (not counting shares)."""
        return self.team | {self.username}

    def owns_scope(self, owner: str | None) -> bool:
        """True if a record owned by `owner` is in the viewer's own or team scope."""
        return self.is_admin or (owner is not None and owner in self.owners)

    def owner_clause(self, column: ColumnElement) -> ColumnElement:
        """SQL condition: the owner column is in scope."""
        return true() if self.is_admin else column.in_(sorted(self.owners))


def viewer_for(session: Session, user: User | str) -> Viewer:
    """The Viewer of a user (a User row or a username)."""
    if isinstance(user, str):
        row = session.scalar(select(User).where(User.username == user))
        if row is None:
            return Viewer(user)
        user = row
    team = OrgDirectory(session).reports_of(user.username)
    return Viewer(user.username, user.has_role("admin"), frozenset(team))


def _share_of(session: Session, viewer: Viewer, customer_id: int) -> CustomerShare | None:
    return session.get(CustomerShare, (customer_id, viewer.username))


def customer_visible_clause(viewer: Viewer) -> ColumnElement:
    """SQL condition: the customer is owned in scope or shared with the viewer (pool excluded)."""
    if viewer.is_admin:
        return Customer.owner.is_not(None)
    shared = select(CustomerShare.customer_id).where(CustomerShare.username == viewer.username)
    return or_(Customer.owner.in_(sorted(viewer.owners)), Customer.id.in_(shared))


def can_read_customer(session: Session, viewer: Viewer, customer: Customer) -> bool:
    """Read access: scope, a share, or the public pool."""
    if customer.owner is None or viewer.owns_scope(customer.owner):
        return True
    return _share_of(session, viewer, customer.id) is not None


def can_edit_customer(session: Session, viewer: Viewer, customer: Customer) -> bool:
    """Edit access: scope (or admin) or an edit share; pool customers only by an administrator."""
    if viewer.is_admin:
        return True
    if customer.owner is None:
        return False
    if viewer.owns_scope(customer.owner):
        return True
    share = _share_of(session, viewer, customer.id)
    return share is not None and share.access == "edit"


def get_customer(session: Session, viewer: Viewer, customer_id: int, *, edit: bool = False,
                 field: str | None = None) -> Customer:
    """The customer if the viewer may read it (or edit it); NotFound otherwise.

    Read-but-not-edit answers NotFound too when `field` names a request field (a reference in a body), so
    a body cannot probe; otherwise a visible but read-only customer answers Forbidden.
    """
    from store.errors import Forbidden, InvalidData
    customer = session.get(Customer, customer_id) if isinstance(customer_id, int) else None
    if customer is None or not can_read_customer(session, viewer, customer):
        if field:
            raise InvalidData(f"no customer {customer_id}", errors=[{"field": field, "message": "unknown customer"}])
        raise NotFound(f"no customer {customer_id}")
    if edit and not can_edit_customer(session, viewer, customer):
        raise Forbidden(f"you may read customer {customer_id} but not change it")
    return customer


def opportunity_visible_clause(viewer: Viewer) -> ColumnElement:
    """SQL condition: the opportunity is owned in scope or its customer is visible."""
    if viewer.is_admin:
        return true()
    visible_customers = select(Customer.id).where(customer_visible_clause(viewer))
    return or_(Opportunity.owner.in_(sorted(viewer.owners)), Opportunity.customer_id.in_(visible_customers))


def can_read_opportunity(session: Session, viewer: Viewer, opp: Opportunity) -> bool:
    """Read access to an opportunity."""
    if viewer.owns_scope(opp.owner):
        return True
    customer = session.get(Customer, opp.customer_id)
    return customer is not None and customer.owner is not None and can_read_customer(session, viewer, customer)


def can_edit_opportunity(session: Session, viewer: Viewer, opp: Opportunity) -> bool:
    """Edit access to an opportunity."""
    if viewer.owns_scope(opp.owner):
        return True
    customer = session.get(Customer, opp.customer_id)
    return customer is not None and customer.owner is not None and can_edit_customer(session, viewer, customer)


def get_opportunity(session: Session, viewer: Viewer, opp_id: int, *, edit: bool = False) -> Opportunity:
    """The opportunity if the viewer may read (or edit) it; NotFound / Forbidden otherwise."""
    from store.errors import Forbidden
    opp = session.get(Opportunity, opp_id)
    if opp is None or not can_read_opportunity(session, viewer, opp):
        raise NotFound(f"no opportunity {opp_id}")
    if edit and not can_edit_opportunity(session, viewer, opp):
        raise Forbidden(f"you may read opportunity {opp_id} but not change it")
    return opp


def nothing() -> ColumnElement:
    """SQL condition that matches no row."""
    return false()
