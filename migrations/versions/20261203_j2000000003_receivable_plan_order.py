"""crm: a receivable plan made from a confirmed order's payment terms points at the order (order_id) instead of
carrying the English note "SO-2026-0003 (prepaid)"; pages word it in the reader's language, the API's note is
unchanged. Existing plans whose note is exactly their contract's order's "<number> (<terms>)" are converted.

Revision ID: j2000000003
Revises: t2100000002
Create Date: 2026-12-03 07:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "j2000000003"
down_revision = "t2100000002"
branch_labels = None
depends_on = None

_plan = sa.table("crm_receivable_plan", sa.column("id", sa.Integer), sa.column("contract_id", sa.Integer),
                 sa.column("note", sa.String), sa.column("order_id", sa.Integer))
_order = sa.table("crm_order", sa.column("id", sa.Integer), sa.column("number", sa.String),
                  sa.column("payment_terms", sa.String), sa.column("contract_id", sa.Integer))


def upgrade():
    with op.batch_alter_table("crm_receivable_plan") as batch_op:
        batch_op.add_column(sa.Column("order_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_crm_receivable_plan_order_id_crm_order"), "crm_order",
                                    ["order_id"], ["id"])
    bind = op.get_bind()
    rows = bind.execute(sa.select(_plan.c.id, _plan.c.note, _order.c.id, _order.c.number, _order.c.payment_terms)
                        .join(_order, _order.c.contract_id == _plan.c.contract_id)
                        .where(_plan.c.note.is_not(None))).all()
    for plan_id, note, order_id, number, terms in rows:
        if note == f"{number} ({terms})":
            bind.execute(_plan.update().where(_plan.c.id == plan_id).values(order_id=order_id, note=None))


def downgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.select(_plan.c.id, _order.c.number, _order.c.payment_terms)
                        .join(_order, _order.c.id == _plan.c.order_id)).all()
    for plan_id, number, terms in rows:
        bind.execute(_plan.update().where(_plan.c.id == plan_id).values(note=f"{number} ({terms})"))
    with op.batch_alter_table("crm_receivable_plan") as batch_op:
        batch_op.drop_constraint(op.f("fk_crm_receivable_plan_order_id_crm_order"), type_="foreignkey")
        batch_op.drop_column("order_id")
