"""webhooks and hand-over hardening: task.excluded_user, api_key.act_as, longer webhook event names

Revision ID: e12000000001
Revises: d1200000001
Create Date: 2026-12-02 15:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e12000000001'
down_revision = 'd1200000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('task') as batch_op:
        batch_op.add_column(sa.Column('excluded_user', sa.String(length=100), nullable=True))
    # open tasks the model did not give to the applicant: the applicant may not work them
    op.execute("UPDATE task SET excluded_user = (SELECT started_by FROM process_instance "
               "WHERE process_instance.id = task.instance_id) WHERE status = 'open' AND (assignee IS NULL OR "
               "assignee <> (SELECT started_by FROM process_instance WHERE process_instance.id = task.instance_id))")
    with op.batch_alter_table('api_key') as batch_op:
        batch_op.add_column(sa.Column('act_as', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('webhook_delivery') as batch_op:
        batch_op.alter_column('event', existing_type=sa.String(length=50), type_=sa.String(length=100),
                              existing_nullable=False)


def downgrade():
    with op.batch_alter_table('webhook_delivery') as batch_op:
        batch_op.alter_column('event', existing_type=sa.String(length=100), type_=sa.String(length=50),
                              existing_nullable=False)
    with op.batch_alter_table('api_key') as batch_op:
        batch_op.drop_column('act_as')
    with op.batch_alter_table('task') as batch_op:
        batch_op.drop_column('excluded_user')
