"""oa: the administration audit trail (admin_audit): who created, changed, deactivated a user, reset a
password, unlocked an account, changed departments or groups, created or revoked an API key, added or
removed a webhook

Revision ID: g2000000001
Revises: g1900000005
Create Date: 2026-12-03 01:45:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'g2000000001'
down_revision = "g1900000005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'admin_audit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('object_type', sa.String(length=20), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('object_name', sa.String(length=300), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                  nullable=False),
        sa.Column('summary', sa.String(length=2000), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_admin_audit_at'), 'admin_audit', ['at'], unique=False)
    op.create_index(op.f('ix_admin_audit_actor'), 'admin_audit', ['actor'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_admin_audit_actor'), table_name='admin_audit')
    op.drop_index(op.f('ix_admin_audit_at'), table_name='admin_audit')
    op.drop_table('admin_audit')
