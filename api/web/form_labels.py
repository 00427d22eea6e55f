"""Labels of the shipped forms and processes (titles, enum values, outcomes), listed so the message
extractor puts them into the catalogs; the templates translate such data labels with the `label` filter."""

from flask_babel import lazy_gettext as _l

SHIPPED_LABELS = [
    _l("Leave request"), _l("Leave type"), _l("First day"), _l("Last day"), _l("Working days"), _l("Reason"),
    _l("annual"), _l("sick"), _l("personal"), _l("marriage"), _l("maternity"), _l("bereavement"),
    _l("Approval"), _l("Approve"), _l("Comment"), _l("Manager approval"), _l("HR approval"),
    _l("Finance approval"), _l("Legal approval"), _l("General manager approval"), _l("Department head approval"),
    _l("Expense claim"), _l("Contract approval"), _l("Customer visit"), _l("Ticket escalation"),
    _l("Items"), _l("Category"), _l("Amount"), _l("Date"), _l("Description"), _l("Title"),
    _l("Visit date"), _l("Purpose"), _l("approved"), _l("rejected"), _l("leave_type"), _l("start_date"),
    _l("end_date"), _l("days"), _l("reason"), _l("outcome"), _l("comment"),
    # titles of the errors the engine and API raise
    _l("Bad request"), _l("Forbidden"), _l("Conflict"), _l("Validation failed"), _l("Payload too large"),
    _l("Invalid query"), _l("Deployment has problems"), _l("Unauthorized"),
]
