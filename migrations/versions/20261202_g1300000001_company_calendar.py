"""company calendar (holidays and make-up working days) and half-day leave records

Revision ID: g1300000001
Revises: e1000000000a
Create Date: 2026-12-02 15:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'g1300000001'
down_revision = 'e1000000000a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'holiday',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('date'),
    )
    with op.batch_alter_table('leave_record') as batch_op:
        batch_op.add_column(sa.Column('half', sa.String(length=2), nullable=True))


def downgrade():
    with op.batch_alter_table('leave_record') as batch_op:
        batch_op.drop_column('half')
    op.drop_table('holiday')
