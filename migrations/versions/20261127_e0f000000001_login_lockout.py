"""login lockout columns on user_account

Revision ID: e0f000000001
Revises: c62c40695332
Create Date: 2026-11-27 22:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e0f000000001'
down_revision = 'c62c40695332'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
