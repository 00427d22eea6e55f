"""process definitions keep their element names and the flow's translations (engine.flow_i18n); the default
shift rule follows the company time zone (OAFLOW_TIMEZONE) instead of UTC; notifications keep their message key
and parameters (store.messages) to be rendered in the reader's language

Revision ID: x1500000002
Revises: w1500000001
Create Date: 2026-12-02 19:45:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'x1500000002'
down_revision = 'w1500000001'
branch_labels = None
depends_on = None


def upgrade():
    json_type = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), 'postgresql')
    with op.batch_alter_table('process_definition') as batch:
        batch.add_column(sa.Column('labels', json_type, nullable=True))
    op.execute("UPDATE shift_rule SET timezone = 'company' WHERE is_default = true AND timezone = 'UTC'")
    with op.batch_alter_table('notification') as batch:
        batch.add_column(sa.Column('message', json_type, nullable=True))


def downgrade():
    with op.batch_alter_table('notification') as batch:
        batch.drop_column('message')
    op.execute("UPDATE shift_rule SET timezone = 'UTC' WHERE is_default = true AND timezone = 'company'")
    with op.batch_alter_table('process_definition') as batch:
        batch.drop_column('labels')
