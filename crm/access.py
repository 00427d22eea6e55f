"""Data scope for CRM records: who may read and edit which customer and what hangs off it.

- an administrator reads and edits everything;
- a rep reads and edits their own customers and opportunities, and customers shared with them
  (read-only or editable, as shared);
- a manager also reads and edits what everyone below them in the org chart owns (OrgDirectory.reports_of);
- customers in the public pool (no owner) are readable by everyone; they are edited after a claim.
- while a user has an open task (assignee or candidate) on an instance that references a record (engine
  instance_reference), they read that record's customer and what hangs off it: read only, for the life of the
  task, each read noted in the audit trail as "read via task" with the task id (crm.audit.note_read). The look-up is
  plugged in by the app factory (`plug_task_references`), so crm does not query engine tables itself; list
  queries OR the granted ids in (`task_granted_ids`), read only as well.
- members of the `finance` group (FINANCE_GROUP) read every contract, receivable plan, payment, sales order, invoice
  and customer sales summary (balance) company-wide and record payments on any contract (audited with their
  name); their other access is that of any user.
Guessing the id of a record outside one's scope answers NotFound, never Forbidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, false, or_, select, true
from sqlalchemy.orm import Session

from crm.models import Contact, Contract, Customer, CustomerShare, Opportunity, SalesOrder, Ticket
from oa.models import User
from oa.org import OrgDirectory
from store.errors import NotFound


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a username, whether they administer, and the owners whose records they see."""

    username: str
    is_admin: bool = False
    team: frozenset[str] = frozenset()  # everyone below the viewer in the org chart
    via_tasks: bool = False  # open tasks grant read access to the records their instances reference (reads only)
    finance: bool = False  # in the finance group: reads contracts, plans and payments company-wide, records payments
    task_customers: frozenset[int] = frozenset()  # customers the open tasks grant (reads only; see task_customer_ids)

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


FINANCE_GROUP = "finance"


def reads_all_contracts(viewer: Viewer) -> bool:
    """True if the viewer reads every contract, receivable plan and payment (an administrator, or finance)."""
    return viewer.is_admin or viewer.finance


def reads_all_sales(viewer: Viewer) -> bool:
    """True if the viewer reads every sales order, invoice and customer sales summary (administrator or finance:
    the same read-only rule as contracts)."""
    return reads_all_contracts(viewer)


def records_any_payment(viewer: Viewer) -> bool:
    """True if the viewer may record a payment on any contract without edit access to it (finance)."""
    return viewer.is_admin or viewer.finance


def viewer_for(session: Session, user: User | str, *, via_tasks: bool = False) -> Viewer:
    """The Viewer of a user (a User row or a username). `via_tasks`: let the user's open tasks grant read
    access (a request that only reads sets it; writes never go through a task grant)."""
    if isinstance(user, str):
        row = session.scalar(select(User).where(User.username == user))
        if row is None:
            return Viewer(user)
        user = row
    team = OrgDirectory(session).reports_of(user.username)
    finance = any(g.name == FINANCE_GROUP for g in user.groups)
    granted = task_customer_ids(session, user.username) if via_tasks else frozenset()
    return Viewer(user.username, user.has_role("admin"), frozenset(team), via_tasks, finance, granted)


def initiator_viewer(session: Session, username: str | None) -> Viewer:
    """The own data scope of a flow's initiator, without task grants (service operations write under it).
    No initiator, or the engine's scheduler, starts on the system's behalf: everything is in scope."""
    if username is None or username == "scheduler" and session.scalar(
            select(User.id).where(User.username == username)) is None:
        return Viewer(username or "system", is_admin=True, via_tasks=False)
    return viewer_for(session, username)


# (session, username) -> [(ref_type, ref_id, task_id)] of the records the user's open tasks' instances reference
TaskReferences = Callable[[Session, str], list[tuple[str, str, str]]]
_task_references: list[TaskReferences] = []


def plug_task_references(lookup: TaskReferences) -> None:
    """Install the look-up of records referenced by a user's open tasks (the app factory does)."""
    _task_references[:] = [lookup]


_CUSTOMER_OF = {"crm.opportunity": Opportunity, "crm.contract": Contract, "crm.ticket": Ticket,
                "crm.contact": Contact, "crm.order": SalesOrder}


MAX_ID = 2**31 - 1  # ids are 32-bit integer columns


def task_customer_ids(session: Session, username: str) -> frozenset[int]:
    """Ids of the customers the user's open tasks grant read access to (referenced directly or through an
    opportunity, contract, ticket or contact of theirs): one look-up of the references, one indexed query per
    record type. List queries OR these in (customer_visible_clause), for reads only and while the task is open."""
    if not _task_references:
        return frozenset()
    ids: set[int] = set()
    by_type: dict[str, set[int]] = {}
    for ref_type, ref_id, _task_id in _task_references[0](session, username):
        if not str(ref_id).isdigit() or int(ref_id) > MAX_ID:
            continue
        if ref_type == "crm.customer":
            ids.add(int(ref_id))
        elif ref_type in _CUSTOMER_OF:
            by_type.setdefault(ref_type, set()).add(int(ref_id))
    for ref_type, record_ids in by_type.items():
        model = _CUSTOMER_OF[ref_type]
        ids |= set(session.scalars(select(model.customer_id).where(model.id.in_(sorted(record_ids)))))
    return frozenset(ids)


def task_grant(session: Session, viewer: Viewer, customer_id: int) -> str | None:
    """The id of an open task of the viewer whose instance references this customer (directly or through an
    opportunity, contract, ticket or contact of it); None if there is none. The read is noted for the audit."""
    if not viewer.via_tasks or not _task_references:
        return None
    for ref_type, ref_id, task_id in _task_references[0](session, viewer.username):
        if not str(ref_id).isdigit():
            continue
        if ref_type == "crm.customer":
            hit = int(ref_id) == customer_id
        else:
            model = _CUSTOMER_OF.get(ref_type)
            row = session.get(model, int(ref_id)) if model is not None else None
            hit = row is not None and row.customer_id == customer_id
        if hit:
            from crm.audit import note_read
            note_read(session, "customer", customer_id, viewer.username, task_id)
            return task_id
    return None


def _share_of(session: Session, viewer: Viewer, customer_id: int) -> CustomerShare | None:
    return session.get(CustomerShare, (customer_id, viewer.username))


def customer_visible_clause(viewer: Viewer) -> ColumnElement:
    """SQL condition: the customer is owned in scope, shared with the viewer, or granted by an open task of theirs
    on a read (`Viewer.task_customers`); pool and merged customers are excluded."""
    live = Customer.merged_into_id.is_(None)  # a customer merged into another drops out of every list
    if viewer.is_admin:
        return Customer.owner.is_not(None) & live
    shared = select(CustomerShare.customer_id).where(CustomerShare.username == viewer.username)
    granted = (Customer.id.in_(sorted(viewer.task_customers)) & Customer.owner.is_not(None)
               if viewer.via_tasks and viewer.task_customers else false())
    return or_(Customer.owner.in_(sorted(viewer.owners)), Customer.id.in_(shared), granted) & live


def customer_of_row_visible(viewer: Viewer, customer_id: ColumnElement) -> ColumnElement:
    """SQL condition: the customer a row hangs off (its `customer_id` column) is visible. For an administrator a
    correlated look-up by primary key (a list read newest first checks only the rows it returns); for others the
    ids of their few customers."""
    if viewer.is_admin:
        return exists().where(Customer.id == customer_id, Customer.owner.is_not(None))
    return customer_id.in_(select(Customer.id).where(customer_visible_clause(viewer)))


def can_read_customer(session: Session, viewer: Viewer, customer: Customer) -> bool:
    """Read access: scope, a share, or the public pool."""
    if customer.owner is None or viewer.owns_scope(customer.owner):
        return True
    return _share_of(session, viewer, customer.id) is not None or task_grant(session, viewer, customer.id) is not None


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
