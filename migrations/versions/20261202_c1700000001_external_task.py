"""External tasks: service tasks with camunda:type="external" waiting for a worker on their topic

Revision ID: c1700000001
Revises: p1900000001
Create Date: 2026-12-02 17:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'c1700000001'
down_revision = 'p1900000001'
branch_labels = None
depends_on = None


def upgrade():
    json_type = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
    op.create_table(
        'external_task',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('process_key', sa.String(length=255), nullable=False),
        sa.Column('element_id', sa.String(length=255), nullable=False),
        sa.Column('topic', sa.String(length=255), nullable=False),
        sa.Column('worker_id', sa.String(length=255), nullable=True),
        sa.Column('lock_expires_at', sa.DateTime(), nullable=True),
        sa.Column('retries', sa.Integer(), nullable=True),
        sa.Column('error_message', sa.Text(), nullable=True),
        sa.Column('error_details', sa.Text(), nullable=True),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('variables', json_type, nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                                name=op.f('fk_external_task_instance_id_process_instance')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_external_task')))
    op.create_index('ix_external_task_instance_id', 'external_task', ['instance_id'])
    op.create_index('ix_external_task_topic_lock', 'external_task', ['topic', 'lock_expires_at'])


def downgrade():
    op.drop_index('ix_external_task_topic_lock', table_name='external_task')
    op.drop_index('ix_external_task_instance_id', table_name='external_task')
    op.drop_table('external_task')
