"""crm: an index on orders by status and confirmation time - win rate, sales trend and sales by rep now add the
orders confirmed without an opportunity in a period to won revenue, which scanned every order.

Revision ID: o2200000001
Revises: j2000000003
Create Date: 2026-12-03 10:45:00
"""
from alembic import op

revision = "o2200000001"
down_revision = "j2000000003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_crm_order_status_confirmed_at", "crm_order", ["status", "confirmed_at"])


def downgrade():
    op.drop_index("ix_crm_order_status_confirmed_at", table_name="crm_order")
