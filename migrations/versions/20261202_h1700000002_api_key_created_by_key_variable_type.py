"""API keys remember the key that created them (a key may revoke only itself and the keys it created);
the declared types of variables JSON cannot tell (Camunda Long, Short, Date)

Revision ID: h1700000002
Revises: c1700000001
Create Date: 2026-12-02 19:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'h1700000002'
down_revision = 'q1900000002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_key') as batch_op:
        batch_op.add_column(sa.Column('created_by_key_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_api_key_created_by_key_id', ['created_by_key_id'])
    op.create_table(
        'variable_type',
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('type', sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                                name=op.f('fk_variable_type_instance_id_process_instance')),
        sa.PrimaryKeyConstraint('instance_id', 'name', name=op.f('pk_variable_type')))


def downgrade():
    op.drop_table('variable_type')
    with op.batch_alter_table('api_key') as batch_op:
        batch_op.drop_index('ix_api_key_created_by_key_id')
        batch_op.drop_column('created_by_key_id')
