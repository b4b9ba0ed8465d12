"""deliveries.channel is a plain name: no CHECK listing the channels, room for longer names

Revision ID: 0010a
Revises: 0010n
Create Date: 2026-11-27 12:00:00

Channels are declared by their packages (warning_service/channels/catalog.py), and the service checks
a delivery's channel against them where it writes and reads rows; a CHECK constraint naming sms,
broadcast and beidou would make every new channel a schema change. The column, and the seals' one,
grow from 10 to 32 characters (cell_broadcast has 14). Downgrading restores the CHECK, which fails
while a row names a channel outside the three.
"""
from alembic import op
import sqlalchemy as sa

revision = '0010a'
down_revision = '0010n'
branch_labels = None
depends_on = None

OLD_CHANNELS = ('sms', 'broadcast', 'beidou')


def upgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_deliveries_channel'), type_='check')
        batch_op.alter_column('channel', existing_type=sa.String(length=10), type_=sa.String(length=32),
                              existing_nullable=False)
    with op.batch_alter_table('delivery_seals', schema=None) as batch_op:
        batch_op.alter_column('channel', existing_type=sa.String(length=10), type_=sa.String(length=32),
                              existing_nullable=False)


def downgrade():
    with op.batch_alter_table('delivery_seals', schema=None) as batch_op:
        batch_op.alter_column('channel', existing_type=sa.String(length=32), type_=sa.String(length=10),
                              existing_nullable=False)
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.alter_column('channel', existing_type=sa.String(length=32), type_=sa.String(length=10),
                              existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_deliveries_channel'), sa.column('channel').in_(OLD_CHANNELS))
