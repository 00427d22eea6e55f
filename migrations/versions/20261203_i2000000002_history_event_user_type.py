"""engine: an index on history_event (user, type, instance_id, at) for the approval centre's 我已处理 tab, which
finds the requests a user acted on and when they last did

Revision ID: i2000000002
Revises: g2000000001
Create Date: 2026-12-03 02:20:00
"""
from alembic import op

revision = "i2000000002"
down_revision = "g2000000001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_history_event_user_type", "history_event", ["user", "type", "instance_id", "at"])


def downgrade():
    op.drop_index("ix_history_event_user_type", table_name="history_event")
