"""API key scopes; the last HTTP status of a webhook delivery

Revision ID: i1700000001
Revises: h1300000001
Create Date: 2026-12-02 16:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'i1700000001'
down_revision = 'h1300000001'
branch_labels = None
depends_on = None


def upgrade():
    json_type = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
    with op.batch_alter_table('api_key') as batch_op:
        batch_op.add_column(sa.Column('scopes', json_type, nullable=False, server_default='[]'))
    with op.batch_alter_table('webhook_delivery') as batch_op:
        batch_op.add_column(sa.Column('last_response_code', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('webhook_delivery') as batch_op:
        batch_op.drop_column('last_response_code')
    with op.batch_alter_table('api_key') as batch_op:
        batch_op.drop_column('scopes')
