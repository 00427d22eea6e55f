"""typed record references: instance_reference (what an instance names) and record_claim (exclusive holds)

Revision ID: f1300000001
Revises: e12000000001
Create Date: 2026-12-02 15:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f1300000001'
down_revision = 'e12000000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('instance_reference',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('ref_type', sa.String(length=40), nullable=False),
    sa.Column('ref_id', sa.String(length=100), nullable=False),
    sa.Column('field', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                            name=op.f('fk_instance_reference_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_reference'))
    )
    op.create_index(op.f('ix_instance_reference_instance_id'), 'instance_reference', ['instance_id'], unique=False)
    op.create_index('ix_instance_reference_ref', 'instance_reference', ['ref_type', 'ref_id'], unique=False)
    op.create_table('record_claim',
    sa.Column('ref_type', sa.String(length=40), nullable=False),
    sa.Column('ref_id', sa.String(length=100), nullable=False),
    sa.Column('purpose', sa.String(length=255), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                            name=op.f('fk_record_claim_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('ref_type', 'ref_id', 'purpose', name=op.f('pk_record_claim'))
    )
    op.create_index(op.f('ix_record_claim_instance_id'), 'record_claim', ['instance_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_record_claim_instance_id'), table_name='record_claim')
    op.drop_table('record_claim')
    op.drop_index('ix_instance_reference_ref', table_name='instance_reference')
    op.drop_index(op.f('ix_instance_reference_instance_id'), table_name='instance_reference')
    op.drop_table('instance_reference')
