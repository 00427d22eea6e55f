"""engine: an index on instance_attachment.sha256, for the expense claim's start check that a receipt's content is
not already claimed by another claim (oa.receipts.claimed_elsewhere)

Revision ID: m2100000001
Revises: c1500000003
Create Date: 2026-12-03 07:40:00
"""
from alembic import op

revision = "m2100000001"
down_revision = "c1500000003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_instance_attachment_sha256", "instance_attachment", ["sha256"])


def downgrade():
    op.drop_index("ix_instance_attachment_sha256", table_name="instance_attachment")
