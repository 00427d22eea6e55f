"""Who will approve a request, shown on the start form while the user types (POST /start/<key>/chain-preview).

The steps follow each shipped flow's routing with the same inputs: the deployed DMN table of the flow
(expense claim, sales order), its gateway thresholds (leave over 3 working days, contract over 100,000)
and the org chart functions its assignee expressions call (manager_of, dept_head_of, members_of). The DMN
table is read from the definition's deployment and evaluated for simple comparisons only (never run as
code); an entry it cannot read makes the preview say nothing rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.extensions import db
from api.web.blueprint import bp
from api.web.common import queries as q
from api.web.common.schema_forms import parse_submission
from api.web.common.session import actor
from api.web.labels import label
from engine import definitions
from engine.models import DeploymentFile, ProcessDefinition
from engine.xmlsafe import parse_xml
from store.errors import NotFound

DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"
_CMP = re.compile(r"^\s*(<=|>=|<|>|=)?\s*(-?\d+(?:\.\d+)?)\s*$")
_RANGE = re.compile(r"^\s*([\[\]])\s*(-?\d+(?:\.\d+)?)\s*\.\.\s*(-?\d+(?:\.\d+)?)\s*([\[\]])\s*$")
_STR = re.compile(r'^\s*"([^"]*)"\s*$')


class Unreadable(Exception):
    """A DMN entry this preview does not evaluate."""


def _entry_matches(entry: str, value: Any) -> bool:
    text = entry.strip()
    if text in ("", "-"):
        return True
    if (m := _STR.match(text)) is not None:
        return value == m.group(1)
    if (m := _CMP.match(text)) is not None:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        op, bound = m.group(1) or "=", float(m.group(2))
        return {"<": value < bound, "<=": value <= bound, ">": value > bound, ">=": value >= bound,
                "=": value == bound}[op]
    if (m := _RANGE.match(text)) is not None:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        low, high = float(m.group(2)), float(m.group(3))
        return ((value >= low) if m.group(1) == "[" else (value > low)) and \
            ((value <= high) if m.group(4) == "]" else (value < high))
    raise Unreadable(text)


def decide(session: Session, d: ProcessDefinition, decision_id: str, inputs: dict[str, Any]) -> str | None:
    """The first-hit output of decision `decision_id` in `d`'s deployment for `inputs` (None if no rule
    matches or the table uses entries this reader does not evaluate)."""
    files = session.scalars(select(DeploymentFile).where(DeploymentFile.deployment_id == d.deployment_id,
                                                         DeploymentFile.name.like("%.dmn"))).all()
    for f in files:
        try:
            root = parse_xml(f.content, f.name).getroot()
        except Exception:  # an unreadable file has no decision to offer
            continue
        for decision in root.iter(f"{{{DMN_NS}}}decision"):
            if decision.get("id") != decision_id:
                continue
            table = decision.find(f"{{{DMN_NS}}}decisionTable")
            if table is None or (table.get("hitPolicy") or "UNIQUE") not in ("FIRST", "UNIQUE"):
                return None
            names = [(i.findtext(f"{{{DMN_NS}}}inputExpression/{{{DMN_NS}}}text") or "").strip()
                     for i in table.findall(f"{{{DMN_NS}}}input")]
            try:
                for rule in table.findall(f"{{{DMN_NS}}}rule"):
                    entries = [e.findtext(f"{{{DMN_NS}}}text") or "" for e in rule.findall(f"{{{DMN_NS}}}inputEntry")]
                    if all(_entry_matches(e, inputs.get(n)) for n, e in zip(names, entries, strict=False)):
                        out = rule.find(f"{{{DMN_NS}}}outputEntry")
                        found = _STR.match(out.findtext(f"{{{DMN_NS}}}text") or "") if out is not None else None
                        return found.group(1) if found else None
            except Unreadable:
                return None
            return None
    return None


# ------------------------------------------------------------------ the people of a step
class People:
    """Org chart look-ups for the applicant, with display names."""

    def __init__(self, session: Session, username: str) -> None:
        from oa.org import OrgDirectory
        self.session, self.me, self.directory = session, username, OrgDirectory(session)

    def names(self, usernames: list[str]) -> list[str]:
        """Display names (or usernames) of the people, in order."""
        from oa.models import User
        found = dict(self.session.execute(select(User.username, User.display_name)
                                          .where(User.username.in_(usernames))).all()) if usernames else {}
        return [found.get(u) or u for u in usernames]

    def manager(self) -> list[str]:
        """The applicant's manager."""
        return self.names([m]) if (m := self.directory.manager_of(self.me)) else []

    def dept_head(self) -> list[str]:
        """The head of the applicant's department."""
        return self.names([h]) if (h := self.directory.dept_head_of(self.me)) else []

    def sales_head(self) -> list[str]:
        """Who approves the applicant's sales order as the sales head (the head of the Sales department)."""
        from crm.orders import sales_head_for
        return self.names([h]) if (h := sales_head_for(self.session, self.me)) else []

    def group(self, name: str, limit: int = 5) -> list[str]:
        """Members of a group (anyone of them may take the task), at most `limit` names."""
        return self.names(sorted(self.directory.members_of(name) - {self.me})[:limit])


def _step(title: Any, people: list[str], group: str | None = None) -> dict[str, Any]:
    return {"step": str(title), "people": people, "group": group}


STEP_LABELS = {"manager": _l("Manager approval"), "finance": _l("Finance approval"),
               "general_manager": _l("General manager approval"), "sales_head": _l("Sales head approval")}


def _chain_steps(chain: str, who: People) -> list[dict[str, Any]]:
    steps = []
    for part in [p.strip() for p in chain.split(",") if p.strip()]:
        if part == "manager":
            steps.append(_step(STEP_LABELS["manager"], who.manager()))
        elif part == "sales_head":
            steps.append(_step(STEP_LABELS["sales_head"], who.sales_head()))
        elif part == "finance":
            steps.append(_step(STEP_LABELS["finance"], who.group("finance"), "finance"))
        elif part == "general_manager":
            steps.append(_step(STEP_LABELS["general_manager"], who.group("management"), "management"))
        else:
            steps.append(_step(label(part), []))
    return steps


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _leave(session: Session, d: ProcessDefinition, values: dict, who: People) -> dict[str, Any]:
    from oa.leave_rules import check_leave_start
    days = None
    if values.get("start_date") and values.get("end_date"):
        try:
            days = check_leave_start(session, who.me, dict(values)).get("days")
        except Exception:  # dates not valid yet (or overlapping): the preview waits for good ones
            days = None
    steps = [_step(_l("Manager approval"), who.manager())]
    if days is not None and days > 3:
        steps.append(_step(_l("HR approval"), who.group("hr"), "hr"))
    note = _l("More than 3 working days also need HR approval.") if days is None else None
    return {"steps": steps, "inputs": {"days": days}, "note": str(note) if note else None}


def _expense(session: Session, d: ProcessDefinition, values: dict, who: People) -> dict[str, Any]:
    items = [i for i in values.get("items") or [] if isinstance(i, dict) and _number(i.get("amount")) is not None]
    if not items:
        return {"steps": [], "inputs": {}, "note": str(_l("Enter the amounts to see who approves."))}
    total = round(sum(_number(i["amount"]) or 0 for i in items), 2)
    by_category: dict[str, float] = {}
    for i in items:
        by_category[str(i.get("category"))] = by_category.get(str(i.get("category")), 0) + (_number(i["amount"]) or 0)
    category = sorted(by_category.items(), key=lambda kv: -kv[1])[0][0]
    chain = decide(session, d, "expense_approval_chain", {"total": total, "category": category})
    if chain is None:
        return {"steps": [], "inputs": {"total": total}, "note": None}
    return {"steps": _chain_steps(chain, who), "inputs": {"total": total}, "note": None}


def _contract(session: Session, d: ProcessDefinition, values: dict, who: People) -> dict[str, Any]:
    amount = _number(values.get("amount"))
    # the flow's script: reviewers = members_of("legal")[:1] + members_of("finance")[:1]
    first = [sorted(who.directory.members_of(g))[:1] for g in ("legal", "finance")]
    reviewers = who.names(first[0] + first[1])
    steps = [_step(_l("Sales head approval"), who.dept_head()),
             _step(_l("Legal and finance review (countersign)"), reviewers)]
    if amount is not None and amount > 100000:
        steps.append(_step(_l("General manager approval"), who.group("management"), "management"))
    note = None if amount is not None else _l("Above 100,000 the general manager approves too.")
    return {"steps": steps, "inputs": {"amount": amount}, "note": str(note) if note else None}


def _visit(session: Session, d: ProcessDefinition, values: dict, who: People) -> dict[str, Any]:
    return {"steps": [_step(_l("Manager approval"), who.manager())], "inputs": {}, "note": None}


def _sales_order(session: Session, d: ProcessDefinition, values: dict, who: People) -> dict[str, Any]:
    from crm.access import viewer_for
    from crm.orders import get_order
    order_id = values.get("order_id")
    if not isinstance(order_id, int) or isinstance(order_id, bool):
        return {"steps": [], "inputs": {}, "note": str(_l("Choose the order to see who approves."))}
    try:
        order = get_order(session, viewer_for(session, who.me), order_id)
    except Exception:  # not an order the applicant may read: say nothing about it
        return {"steps": [], "inputs": {}, "note": str(_l("Choose the order to see who approves."))}
    total, discount = float(order.total), float(order.max_discount)
    chain = decide(session, d, "sales_order_approval_chain", {"total": total, "max_discount": discount})
    if chain is None:
        return {"steps": [], "inputs": {"total": total}, "note": None}
    return {"steps": _chain_steps(chain, who), "inputs": {"total": total}, "note": None}


PREVIEWS: dict[str, Callable[[Session, ProcessDefinition, dict, People], dict[str, Any]]] = {
    "leave_request": _leave, "expense_claim": _expense, "contract_approval": _contract,
    "customer_visit": _visit, "sales_order_approval": _sales_order,
}


def has_preview(key: str) -> bool:
    """True when the start page of process `key` can show its approval chain."""
    return key in PREVIEWS


@bp.post("/start/<key>/chain-preview")
def chain_preview(key: str) -> Any:
    """JSON {steps: [{step, people, group}], inputs, note} for the start form as typed so far."""
    d = definitions.get_definition(db.session, key[:255])
    meta = q.start_meta(d)
    if meta is None or d.key not in PREVIEWS:
        raise NotFound(f"process '{d.key}' has no chain preview")
    values, _errors = parse_submission(d.forms.get(meta.form or ""), request.form)
    result = PREVIEWS[d.key](db.session, d, values, People(db.session, actor().username))
    return jsonify(result)
