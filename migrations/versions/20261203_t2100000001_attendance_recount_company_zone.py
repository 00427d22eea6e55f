"""attendance: recount every summarised month. The month counts read a shift rule in the `company` zone as UTC
while each record's late / early flags used the company zone (OAFLOW_TIMEZONE), so the stored summary rows
disagree with the records; a mark for everyone and every month makes the report count live until the
scheduler refills the rows; the rows record the company zone they were counted in, so a changed
OAFLOW_TIMEZONE is not read from rows counted in the old one

Revision ID: t2100000001
Revises: m2100000001
Create Date: 2026-12-03 07:40:00
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "t2100000001"
down_revision = "m2100000001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("attendance_month_summary") as batch:
        batch.add_column(sa.Column("zone", sa.String(length=64), nullable=True))
    dirty = sa.table("attendance_month_dirty", sa.column("user", sa.String), sa.column("month", sa.Date))
    every_month = date(1, 1, 1)
    present = op.get_bind().scalar(sa.select(sa.func.count()).select_from(dirty).where(
        dirty.c.user == "*", dirty.c.month == every_month))
    if not present:
        op.execute(dirty.insert().values(user="*", month=every_month))


def downgrade():
    # the mark only makes the report count live until the scheduler refreshes the summary: it stays
    with op.batch_alter_table("attendance_month_summary") as batch:
        batch.drop_column("zone")
