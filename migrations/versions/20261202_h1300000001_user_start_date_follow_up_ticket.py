"""user start (hire) date; a follow-up may name the ticket it records

Revision ID: h1300000001
Revises: g1300000001
Create Date: 2026-12-02 15:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'h1300000001'
down_revision = 'g1300000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.add_column(sa.Column('start_date', sa.Date(), nullable=True))
    with op.batch_alter_table('crm_follow_up') as batch_op:
        batch_op.add_column(sa.Column('ticket_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_crm_follow_up_ticket_id', ['ticket_id'])
        batch_op.create_foreign_key('fk_crm_follow_up_ticket_id_crm_ticket', 'crm_ticket', ['ticket_id'], ['id'])


def downgrade():
    with op.batch_alter_table('crm_follow_up') as batch_op:
        batch_op.drop_constraint('fk_crm_follow_up_ticket_id_crm_ticket', type_='foreignkey')
        batch_op.drop_index('ix_crm_follow_up_ticket_id')
        batch_op.drop_column('ticket_id')
    with op.batch_alter_table('user_account') as batch_op:
        batch_op.drop_column('start_date')
