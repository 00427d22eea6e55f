"""attendance: the (user, work_date) index also carries clock_in and clock_out, so the monthly report's
GROUP BY person and day reads the index alone (issue #19)

Revision ID: q1900000002
Revises: c1700000001
Create Date: 2026-12-02 19:50:00
"""
from alembic import op

revision = 'q1900000002'
down_revision = 'c1700000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attendance_record', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_record_user_day_times',
                              ['user', 'work_date', 'clock_in', 'clock_out'], unique=False)
        batch_op.drop_index('ix_attendance_record_user_work_date')


def downgrade():
    with op.batch_alter_table('attendance_record', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_record_user_work_date', ['user', 'work_date'], unique=False)
        batch_op.drop_index('ix_attendance_record_user_day_times')
