"""attendance: a summary of closed months per person and the marks of months whose summary is out of date
(oa.attendance_summary, issue #19)

Revision ID: r1900000003
Revises: x1500000002
Create Date: 2026-12-02 20:40:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = 'r1900000003'
down_revision = 'x1500000002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'attendance_month_summary',
        sa.Column('user', sa.String(length=100), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('start_date', sa.Date(), nullable=True),
        sa.Column('works', sa.Integer(), nullable=False),
        sa.Column('work_days', sa.Integer(), nullable=False),
        sa.Column('present', sa.Integer(), nullable=False),
        sa.Column('late', sa.Integer(), nullable=False),
        sa.Column('early_leave', sa.Integer(), nullable=False),
        sa.Column('absent', sa.Float(), nullable=False),
        sa.Column('leave', sa.JSON().with_variant(JSONB(), 'postgresql'), nullable=False),
        sa.Column('refreshed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('user', 'month'),
    )
    op.create_table(
        'attendance_month_dirty',
        sa.Column('user', sa.String(length=100), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('user', 'month'),
    )


def downgrade():
    op.drop_table('attendance_month_dirty')
    op.drop_table('attendance_month_summary')
