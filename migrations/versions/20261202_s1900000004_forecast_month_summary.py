"""crm: open opportunities per owner and expected close month (crm.forecast_summary), filled from the
opportunities already there (issue #19)

Revision ID: s1900000004
Revises: r1900000003
Create Date: 2026-12-02 20:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = 's1900000004'
down_revision = 'r1900000003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'crm_forecast_month',
        sa.Column('owner', sa.String(length=100), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('amount_cents', sa.BigInteger(), nullable=False),
        sa.Column('weighted_cent_percents', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('owner', 'month'),
    )
    month = ("to_char(expected_close_date, 'YYYY-MM')" if op.get_bind().dialect.name == 'postgresql'
             else "strftime('%Y-%m', expected_close_date)")
    op.execute(f"""INSERT INTO crm_forecast_month (owner, month, count, amount_cents, weighted_cent_percents)
        SELECT owner, {month}, count(*), sum(CAST(round(amount * 100) AS BIGINT)),
               sum(CAST(round(amount * 100) AS BIGINT) * probability)
        FROM crm_opportunity WHERE status = 'open' AND expected_close_date IS NOT NULL
        GROUP BY owner, {month}""")


def downgrade():
    op.drop_table('crm_forecast_month')
