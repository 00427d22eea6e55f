"""engine approver actions, viewers, attachments, webhooks

Revision ID: e0e000000001
Revises: c62c40695332
Create Date: 2026-11-27 21:50:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = 'e0e000000001'
down_revision = 'c62c40695332'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')


def upgrade():
    with op.batch_alter_table('task') as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('delegation', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('signers_after', JSON, nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('approvals', JSON, nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('urged_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('task') as batch_op:
        batch_op.alter_column('signers_after', server_default=None)
        batch_op.alter_column('approvals', server_default=None)
    op.create_table('instance_viewer',
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('added_by', sa.String(length=100), nullable=True),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_instance_viewer_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('instance_id', 'username', name=op.f('pk_instance_viewer'))
    )
    op.create_index(op.f('ix_instance_viewer_username'), 'instance_viewer', ['username'], unique=False)
    op.create_table('instance_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_instance_attachment_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_attachment')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_instance_attachment_stored_name'))
    )
    op.create_index(op.f('ix_instance_attachment_instance_id'), 'instance_attachment', ['instance_id'], unique=False)
    op.create_table('webhook',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=False),
    sa.Column('events', JSON, nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook'))
    )
    op.create_table('webhook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=50), nullable=False),
    sa.Column('payload', JSON, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhook.id'], name=op.f('fk_webhook_delivery_webhook_id_webhook')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery'))
    )
    op.create_index(op.f('ix_webhook_delivery_status'), 'webhook_delivery', ['status'], unique=False)
    op.create_index(op.f('ix_webhook_delivery_webhook_id'), 'webhook_delivery', ['webhook_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_webhook_delivery_webhook_id'), table_name='webhook_delivery')
    op.drop_index(op.f('ix_webhook_delivery_status'), table_name='webhook_delivery')
    op.drop_table('webhook_delivery')
    op.drop_table('webhook')
    op.drop_index(op.f('ix_instance_attachment_instance_id'), table_name='instance_attachment')
    op.drop_table('instance_attachment')
    op.drop_index(op.f('ix_instance_viewer_username'), table_name='instance_viewer')
    op.drop_table('instance_viewer')
    with op.batch_alter_table('task') as batch_op:
        batch_op.drop_column('urged_at')
        batch_op.drop_column('approvals')
        batch_op.drop_column('signers_after')
        batch_op.drop_column('delegation')
        batch_op.drop_column('owner')
