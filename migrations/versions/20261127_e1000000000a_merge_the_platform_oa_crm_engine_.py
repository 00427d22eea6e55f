"""merge the platform, OA, CRM, engine-actions and login-protection branches

Revision ID: e1000000000a
Revises: e0a000000001, e0c000000001, e0e000000001, e0f000000001
Create Date: 2026-11-27 22:11:58.513866
"""


revision = 'e1000000000a'
down_revision = ('e0a000000001', 'e0c000000001', 'e0e000000001', 'e0f000000001')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
