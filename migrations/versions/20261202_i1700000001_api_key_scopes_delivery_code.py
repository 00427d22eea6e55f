"""API key scopes; the last HTTP status of a webhook delivery; notification channels and their deliveries

Revision ID: i1700000001
Revises: o1600000001
Create Date: 2026-12-02 16:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'i1700000001'
down_revision = 'o1600000001'
branch_labels = None
depends_on = None


def upgrade():
    json_type = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
    with op.batch_alter_table('api_key') as batch_op:
        batch_op.add_column(sa.Column('scopes', json_type, nullable=False, server_default='[]'))
    with op.batch_alter_table('webhook_delivery') as batch_op:
        batch_op.add_column(sa.Column('last_response_code', sa.Integer(), nullable=True))
    op.create_table(
        'notification_channel',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_user', sa.String(length=100), nullable=True),
        sa.Column('owner_group', sa.String(length=100), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('target', sa.String(length=1000), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=True),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_channel')))
    op.create_index('ix_notification_channel_owner_user', 'notification_channel', ['owner_user'])
    op.create_index('ix_notification_channel_owner_group', 'notification_channel', ['owner_group'])
    op.create_table(
        'channel_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('user', sa.String(length=100), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('link', sa.String(length=500), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['channel_id'], ['notification_channel.id'],
                                name=op.f('fk_channel_delivery_channel_id_notification_channel')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_delivery')))
    op.create_index('ix_channel_delivery_channel_id', 'channel_delivery', ['channel_id'])
    op.create_index('ix_channel_delivery_status', 'channel_delivery', ['status'])


def downgrade():
    op.drop_index('ix_channel_delivery_status', table_name='channel_delivery')
    op.drop_index('ix_channel_delivery_channel_id', table_name='channel_delivery')
    op.drop_table('channel_delivery')
    op.drop_index('ix_notification_channel_owner_group', table_name='notification_channel')
    op.drop_index('ix_notification_channel_owner_user', table_name='notification_channel')
    op.drop_table('notification_channel')
    with op.batch_alter_table('webhook_delivery') as batch_op:
        batch_op.drop_column('last_response_code')
    with op.batch_alter_table('api_key') as batch_op:
        batch_op.drop_column('scopes')
