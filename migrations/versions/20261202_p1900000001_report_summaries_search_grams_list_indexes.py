"""reports and lists at scale: RFM summary, customer search bigrams, indexes for report filters

Revision ID: p1900000001
Revises: i1700000001
Create Date: 2026-12-02 16:30:00
"""
import re

import sqlalchemy as sa
from alembic import op

revision = 'p1900000001'
down_revision = 'i1700000001'
branch_labels = None
depends_on = None


def _grams(text):
    """Character bigrams of a normalised text (as crm.search.grams; copied so the revision stays frozen)."""
    text = re.sub(r"\s+", " ", text or "").strip().casefold()
    return {text[i:i + 2] for i in range(len(text) - 1)}


def upgrade():
    op.create_table(
        'crm_customer_rfm',
        sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last_tx_on', sa.Date(), nullable=True),
        sa.Column('frequency', sa.Integer(), nullable=False),
        sa.Column('monetary', sa.Numeric(14, 2), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('refreshed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_crm_customer_rfm')),
    )
    op.create_table(
        'crm_customer_gram',
        sa.Column('gram', sa.String(2), nullable=False),
        sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint('gram', 'customer_id', name=op.f('pk_crm_customer_gram')),
    )
    op.create_index('ix_crm_customer_gram_customer_id', 'crm_customer_gram', ['customer_id'])
    op.create_index('ix_crm_customer_rfm_as_of', 'crm_customer_rfm', ['as_of'])
    op.create_index('ix_crm_customer_rfm_refreshed_at', 'crm_customer_rfm', ['refreshed_at'])
    op.create_index('ix_crm_opportunity_forecast', 'crm_opportunity',
                    ['status', 'expected_close_date', 'amount', 'probability'])
    op.create_index('ix_crm_opportunity_stage_amount', 'crm_opportunity', ['stage', 'amount'])
    op.create_index('ix_crm_opportunity_status_closed_at', 'crm_opportunity', ['status', 'closed_at'])
    op.create_index('ix_crm_follow_up_user_created_at', 'crm_follow_up', ['user', 'created_at'])
    op.create_index('ix_crm_payment_paid_on', 'crm_payment', ['paid_on'])
    op.create_index('ix_crm_receivable_plan_due_date_id', 'crm_receivable_plan', ['due_date', 'id'])
    op.create_index('ix_crm_customer_dims', 'crm_customer', ['industry', 'region', 'level', 'owner'])
    conn = op.get_bind()
    gram = sa.table('crm_customer_gram', sa.column('gram'), sa.column('customer_id'))
    texts = {}
    for cid, name, phone in conn.execute(sa.text("SELECT id, name_key, phone_key FROM crm_customer")):
        texts.setdefault(cid, set()).update(_grams(name) | _grams(phone))
    for cid, name in conn.execute(sa.text("SELECT customer_id, name FROM crm_contact")):
        texts.setdefault(cid, set()).update(_grams(name))
    rows = [{"gram": g, "customer_id": cid} for cid, grams in texts.items() for g in grams]
    for i in range(0, len(rows), 5000):
        conn.execute(gram.insert(), rows[i:i + 5000])


def downgrade():
    op.drop_index('ix_crm_customer_dims', table_name='crm_customer')
    op.drop_index('ix_crm_receivable_plan_due_date_id', table_name='crm_receivable_plan')
    op.drop_index('ix_crm_payment_paid_on', table_name='crm_payment')
    op.drop_index('ix_crm_follow_up_user_created_at', table_name='crm_follow_up')
    op.drop_index('ix_crm_opportunity_status_closed_at', table_name='crm_opportunity')
    op.drop_index('ix_crm_opportunity_stage_amount', table_name='crm_opportunity')
    op.drop_index('ix_crm_opportunity_forecast', table_name='crm_opportunity')
    op.drop_index('ix_crm_customer_rfm_refreshed_at', table_name='crm_customer_rfm')
    op.drop_index('ix_crm_customer_rfm_as_of', table_name='crm_customer_rfm')
    op.drop_index('ix_crm_customer_gram_customer_id', table_name='crm_customer_gram')
    op.drop_table('crm_customer_gram')
    op.drop_table('crm_customer_rfm')
