"""delivery seals: runs of settled deliveries sealed into the audit ledger by a Merkle root

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 10:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'delivery_seals',
        sa.Column('audit_event_id', BIG_ID, nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('first_id', BIG_ID, nullable=False),
        sa.Column('last_id', BIG_ID, nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('root', sa.String(length=64), nullable=False),
        sa.Column('ids', sa.LargeBinary(), nullable=False),
        sa.Column('leaves', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_delivery_seals_alert_id_alerts')),
        sa.ForeignKeyConstraint(['audit_event_id'], ['audit_events.id'],
                                name=op.f('fk_delivery_seals_audit_event_id_audit_events')),
        sa.PrimaryKeyConstraint('audit_event_id', name=op.f('pk_delivery_seals')),
    )
    with op.batch_alter_table('delivery_seals', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_seals_alert_channel_last', ['alert_id', 'channel', 'last_id'], unique=False)
    # The sealer reads one alert's rows on one channel in id order.
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_alert_channel_id', ['alert_id', 'channel', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_alert_channel_id')
    with op.batch_alter_table('delivery_seals', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_seals_alert_channel_last')
    op.drop_table('delivery_seals')
