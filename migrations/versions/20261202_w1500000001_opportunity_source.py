"""an opportunity's lead source (referral, website, trade show, ...)

Revision ID: w1500000001
Revises: c1700000001
Create Date: 2026-12-02 19:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'w1500000001'
down_revision = 'h1700000002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('crm_opportunity') as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table('crm_opportunity') as batch_op:
        batch_op.drop_column('source')
