"""oa: attendance_month_summary.through - the last day a summary row covers, so the open month's days that are
over everywhere are read from it too (issue #19). Existing rows (closed months, counted before the column) are
dropped: the summary is a cache the scheduler refills on its next run, and until then the reports count live.

Revision ID: g1900000005
Revises: s1900000004
Create Date: 2026-12-03 01:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'g1900000005'
down_revision = 's1900000004'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM attendance_month_summary")
    op.add_column('attendance_month_summary', sa.Column('through', sa.Date(), nullable=True))


def downgrade():
    op.execute("DELETE FROM attendance_month_summary")
    with op.batch_alter_table('attendance_month_summary') as batch:
        batch.drop_column('through')
