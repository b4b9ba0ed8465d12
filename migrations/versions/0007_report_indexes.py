"""indexes for the alert report: counts by state, channel and county from the index alone; failovers

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 11:00:00

The (alert, status) index grows to (alert, status, channel, county), so the report's counts are an
index-only scan and the fan-out still maintains one index of this kind, not two.
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_alert_status_place', ['alert_id', 'status', 'channel', 'county_code'],
                              unique=False)
        batch_op.drop_index('ix_deliveries_alert_status')
        batch_op.create_index('ix_deliveries_failover_of_id', ['failover_of_id'], unique=False,
                              postgresql_where=sa.text('failover_of_id IS NOT NULL'),
                              sqlite_where=sa.text('failover_of_id IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_failover_of_id')
        batch_op.create_index('ix_deliveries_alert_status', ['alert_id', 'status'], unique=False)
        batch_op.drop_index('ix_deliveries_alert_status_place')
