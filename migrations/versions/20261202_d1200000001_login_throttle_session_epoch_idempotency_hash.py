"""login throttling per client and account, server-side web logout, idempotency request hashes

Revision ID: d1200000001
Revises: e1000000000a
Create Date: 2026-12-02 15:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'd1200000001'
down_revision = 'e1000000000a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_failure',
        sa.Column('username', sa.String(length=100), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('last_failure_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('username', 'client', name=op.f('pk_login_failure')),
    )
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
    with op.batch_alter_table('idempotent_start') as batch_op:
        batch_op.add_column(sa.Column('request_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('started', sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table('idempotent_start') as batch_op:
        batch_op.drop_column('started')
        batch_op.drop_column('request_hash')
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
        batch_op.drop_column('session_epoch')
    op.drop_table('login_failure')
