"""alerts.reject_reason: why the second officer refused an alert

Revision ID: 0009f
Revises: 0009c
Create Date: 2026-11-26 12:00:00

A rejection now carries the officer's reason (required in the console); it is kept on the alert, shown on
its page and in its report, and written into the ledger's alert.reject entry. Alerts rejected before
this revision keep an empty reason.
"""
from alembic import op
import sqlalchemy as sa

revision = '0009f'
down_revision = '0009c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reject_reason', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_column('reject_reason')
