"""deliveries: ix_deliveries_gateway_id partial (gateway_id IS NOT NULL)

Revision ID: 0013e
Revises: 0012e
Create Date: 2026-12-04 12:00:00

Receipts look a delivery up by a given gateway id, which a partial index serves (`gateway_id = x` implies
it is not null). The rows without one, every row until its gateway answers and all of the null gateway's,
no longer write an entry at each of their row versions: three of the seventeen index entries a delivery's
planned, claimed and settled versions wrote with the null gateway, two with Twilio or SMPP
(docs/BENCHMARKS.md, issue 17 item 3).
"""
from alembic import op
import sqlalchemy as sa

revision = '0013e'
down_revision = '0012e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_gateway_id')
        batch_op.create_index('ix_deliveries_gateway_id', ['gateway_id'], unique=False,
                              postgresql_where=sa.text('gateway_id IS NOT NULL'),
                              sqlite_where=sa.text('gateway_id IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_gateway_id')
        batch_op.create_index('ix_deliveries_gateway_id', ['gateway_id'], unique=False)
