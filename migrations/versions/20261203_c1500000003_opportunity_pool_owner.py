"""crm: crm_opportunity.owner may be empty - an open opportunity goes to the public pool (公海) with its customer
when the customer is released (owner cleared) and back to a rep when the customer is claimed (issue #15).

Revision ID: c1500000003
Revises: i2000000002
Create Date: 2026-12-03 07:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "c1500000003"
down_revision = "i2000000002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("crm_opportunity") as batch:
        batch.alter_column("owner", existing_type=sa.String(100), nullable=True)


def downgrade():
    # a pooled deal gets its customer's owner back, or the last owner its audit trail names
    op.execute("UPDATE crm_opportunity SET owner = (SELECT c.owner FROM crm_customer c "
               "WHERE c.id = crm_opportunity.customer_id) WHERE owner IS NULL")
    op.execute("UPDATE crm_opportunity SET owner = COALESCE((SELECT a.old_value FROM crm_audit a "
               "WHERE a.entity = 'opportunity' AND a.entity_id = crm_opportunity.id AND a.field = 'owner' "
               "AND a.old_value IS NOT NULL ORDER BY a.id DESC LIMIT 1), 'admin') WHERE owner IS NULL")
    with op.batch_alter_table("crm_opportunity") as batch:
        batch.alter_column("owner", existing_type=sa.String(100), nullable=False)
