"""cbc_broadcasts: what each operator's CBC reports of a cell broadcast delivery (state, cells, failed cells, when)

Revision ID: 0010d
Revises: 0010c
Create Date: 2026-12-03 16:30:00

Status callbacks (POST /webhooks/cbc/<code>/status) are kept per delivery, forward only. A new table,
nothing to fill. (deliveries.channel already takes any channel's name: 0010a.)
"""
from alembic import op
import sqlalchemy as sa

revision = '0010d'
down_revision = '0010c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'cbc_broadcasts',
        sa.Column('delivery_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=False),
        sa.Column('operator_id', sa.Integer(), nullable=False),
        sa.Column('cbc_message_id', sa.String(length=64), nullable=False),
        sa.Column('state', sa.Enum('broadcasting', 'completed', 'failed', 'cancelled', name='cbcstate',
                                   native_enum=False, create_constraint=True, length=20), nullable=False),
        sa.Column('cells', sa.Integer(), nullable=False),
        sa.Column('failed_cells', sa.Integer(), nullable=False),
        sa.Column('broadcasting_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_cbc_broadcasts_alert_id_alerts')),
        sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_cbc_broadcasts_delivery_id_deliveries')),
        sa.ForeignKeyConstraint(['operator_id'], ['cbc_operators.id'],
                                name=op.f('fk_cbc_broadcasts_operator_id_cbc_operators')),
        sa.PrimaryKeyConstraint('delivery_id', name=op.f('pk_cbc_broadcasts')),
    )
    with op.batch_alter_table('cbc_broadcasts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cbc_broadcasts_alert_id'), ['alert_id'], unique=False)


def downgrade():
    with op.batch_alter_table('cbc_broadcasts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cbc_broadcasts_alert_id'))
    op.drop_table('cbc_broadcasts')
