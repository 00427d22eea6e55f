"""sales: products, quotes, orders with approval rounds, invoices, number sequences; customer credit limit and merge pointer

Revision ID: o1600000001
Revises: h1300000001
Create Date: 2026-12-02 16:15:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'o1600000001'
down_revision = 'h1300000001'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=14, scale=2)
PERCENT = sa.Numeric(precision=5, scale=2)


def _lines(table: str, parent: str, parent_table: str) -> None:
    op.create_table(
        table,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column(parent, sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('quantity', sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column('unit_price', MONEY, nullable=False),
        sa.Column('discount', PERCENT, nullable=False),
        sa.Column('amount', MONEY, nullable=False),
        sa.ForeignKeyConstraint([parent], [f'{parent_table}.id'], name=f'fk_{table}_{parent}_{parent_table}'),
        sa.ForeignKeyConstraint(['product_id'], ['crm_product.id'], name=f'fk_{table}_product_id_crm_product'),
        sa.PrimaryKeyConstraint('id', name=f'pk_{table}'),
    )
    op.create_index(f'ix_{table}_{parent}', table, [parent])


def _totals() -> list:
    return [sa.Column('tax_rate', PERCENT, nullable=False), sa.Column('subtotal', MONEY, nullable=False),
            sa.Column('discount_total', MONEY, nullable=False), sa.Column('tax', MONEY, nullable=False),
            sa.Column('total', MONEY, nullable=False)]


def upgrade():
    with op.batch_alter_table('crm_customer') as batch_op:
        batch_op.add_column(sa.Column('credit_limit', MONEY, nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_crm_customer_merged_into_id_crm_customer', 'crm_customer',
                                    ['merged_into_id'], ['id'])
    op.create_table(
        'crm_product',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=50), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('unit', sa.String(length=20), nullable=False),
        sa.Column('category', sa.String(length=100), nullable=True),
        sa.Column('list_price', MONEY, nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_crm_product'),
        sa.UniqueConstraint('code', name='uq_crm_product_code'),
    )
    op.create_index('ix_crm_product_category', 'crm_product', ['category'])
    op.create_table(
        'crm_number_sequence',
        sa.Column('name', sa.String(length=30), nullable=False),
        sa.Column('last_value', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('name', name='pk_crm_number_sequence'),
    )
    op.create_table(
        'crm_quote',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=30), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('opportunity_id', sa.Integer(), nullable=True),
        sa.Column('owner', sa.String(length=100), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        *_totals(),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['crm_customer.id'], name='fk_crm_quote_customer_id_crm_customer'),
        sa.ForeignKeyConstraint(['opportunity_id'], ['crm_opportunity.id'],
                                name='fk_crm_quote_opportunity_id_crm_opportunity'),
        sa.PrimaryKeyConstraint('id', name='pk_crm_quote'),
        sa.UniqueConstraint('number', name='uq_crm_quote_number'),
    )
    for col in ('customer_id', 'opportunity_id', 'owner'):
        op.create_index(f'ix_crm_quote_{col}', 'crm_quote', [col])
    _lines('crm_quote_line', 'quote_id', 'crm_quote')
    op.create_table(
        'crm_order',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=30), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('opportunity_id', sa.Integer(), nullable=True),
        sa.Column('quote_id', sa.Integer(), nullable=True),
        sa.Column('contract_id', sa.Integer(), nullable=True),
        sa.Column('owner', sa.String(length=100), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('payment_terms', sa.String(length=20), nullable=False),
        *_totals(),
        sa.Column('max_discount', PERCENT, nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=True),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('submitted_at', sa.DateTime(), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['crm_customer.id'], name='fk_crm_order_customer_id_crm_customer'),
        sa.ForeignKeyConstraint(['opportunity_id'], ['crm_opportunity.id'],
                                name='fk_crm_order_opportunity_id_crm_opportunity'),
        sa.ForeignKeyConstraint(['quote_id'], ['crm_quote.id'], name='fk_crm_order_quote_id_crm_quote'),
        sa.ForeignKeyConstraint(['contract_id'], ['crm_contract.id'], name='fk_crm_order_contract_id_crm_contract'),
        sa.PrimaryKeyConstraint('id', name='pk_crm_order'),
        sa.UniqueConstraint('number', name='uq_crm_order_number'),
    )
    for col in ('customer_id', 'opportunity_id', 'quote_id', 'contract_id', 'owner', 'status', 'instance_id'):
        op.create_index(f'ix_crm_order_{col}', 'crm_order', [col])
    _lines('crm_order_line', 'order_id', 'crm_order')
    op.create_table(
        'crm_order_round',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('total', MONEY, nullable=False),
        sa.Column('submitted_by', sa.String(length=100), nullable=True),
        sa.Column('submitted_at', sa.DateTime(), nullable=False),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['order_id'], ['crm_order.id'], name='fk_crm_order_round_order_id_crm_order'),
        sa.PrimaryKeyConstraint('id', name='pk_crm_order_round'),
        sa.UniqueConstraint('order_id', 'round', name='uq_crm_order_round_order_id_round'),
    )
    op.create_index('ix_crm_order_round_order_id', 'crm_order_round', ['order_id'])
    op.create_table(
        'crm_invoice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=30), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('amount', MONEY, nullable=False),
        sa.Column('tax', MONEY, nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('issued_by', sa.String(length=100), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['crm_order.id'], name='fk_crm_invoice_order_id_crm_order'),
        sa.ForeignKeyConstraint(['customer_id'], ['crm_customer.id'], name='fk_crm_invoice_customer_id_crm_customer'),
        sa.PrimaryKeyConstraint('id', name='pk_crm_invoice'),
        sa.UniqueConstraint('number', name='uq_crm_invoice_number'),
    )
    op.create_index('ix_crm_invoice_order_id', 'crm_invoice', ['order_id'])
    op.create_index('ix_crm_invoice_customer_id', 'crm_invoice', ['customer_id'])


def downgrade():
    for table in ('crm_invoice', 'crm_order_round', 'crm_order_line', 'crm_order', 'crm_quote_line', 'crm_quote',
                  'crm_number_sequence', 'crm_product'):
        op.drop_table(table)
    with op.batch_alter_table('crm_customer') as batch_op:
        batch_op.drop_constraint('fk_crm_customer_merged_into_id_crm_customer', type_='foreignkey')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('credit_limit')
