"""company calendar (holidays and make-up working days), half-day leave records, pending uploads

Revision ID: g1300000001
Revises: f1300000001
Create Date: 2026-12-02 15:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'g1300000001'
down_revision = 'f1300000001'
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
    with op.batch_alter_table('instance_attachment') as batch_op:
        batch_op.alter_column('instance_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    op.execute("DELETE FROM instance_attachment WHERE instance_id IS NULL")
    with op.batch_alter_table('instance_attachment') as batch_op:
        batch_op.alter_column('instance_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('leave_record') as batch_op:
        batch_op.drop_column('half')
    op.drop_table('holiday')
