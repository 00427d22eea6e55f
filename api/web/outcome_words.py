"""The words for a request's outcome (shared by the approval pages and the notifications): the outcomes, their
labels and badge classes, and `word_of`, the one word people read for an outcome."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from api.web.labels import label
from engine.outcomes import CANCELLED_OUTCOMES, REJECTED_OUTCOMES

OUTCOMES = ("running", "approved", "rejected", "withdrawn", "cancelled", "incident")
LABELS = {"running": _l("In approval"), "approved": _l("Approved"), "rejected": _l("Rejected"),
          "withdrawn": _l("Withdrawn"), "cancelled": _l("Cancelled"), "incident": _l("Incident")}
# css class of the badge: green only for an approval
BADGE = {"running": "s-running", "approved": "ok", "rejected": "bad", "withdrawn": "s-cancelled",
         "cancelled": "s-cancelled", "incident": "bad"}
# a flow's outcome word whose status label elsewhere says something else: a receivable `paid` is 已回款 (collected
# from a customer), an expense claim that ends `paid` was paid out to the employee (已付款)
OUTCOME_WORDS = {"paid": _l("Paid out")}


def word_of(outcome: str, said: object, process: object = None) -> str:
    """The word people read for an outcome (one of OUTCOMES): its label, except that an approved request
    whose flow named how it ended in a word the app or the flow translates (`paid`, `confirmed`, `resolved`)
    reads as that word (`process`: its key or instance, for the flow's own terms), so a paid expense claim is
    "Paid out" (已付款) while a receivable stays "Paid" (已回款). A rejection is always "Rejected"."""
    word = said.strip() if isinstance(said, str) else ""
    if outcome == "approved" and word and word.lower() not in ("approved", *REJECTED_OUTCOMES,
                                                              *CANCELLED_OUTCOMES):
        if word.lower() in OUTCOME_WORDS:
            return str(OUTCOME_WORDS[word.lower()])
        text = label(word, process)
        if text != word:  # a word nobody translates stays the plain "Approved"
            return text
    return str(LABELS.get(outcome, outcome))
