"""deliveries: index on gateway_id, for the gateways' delivery receipts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_gateway_id', ['gateway_id'], unique=False)


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_gateway_id')
