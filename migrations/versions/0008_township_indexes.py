"""partial indexes of the targets that carry a township, for the alert report's township counts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 00:10:00

The report's township counts join an alert's deliveries only to the recipients and BeiDou terminals
that have a township: these (id, township) indexes hold just those, so the join costs what they cost.
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TABLES = ('recipients', 'beidou_terminals')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_{table}_township', ['id', 'township_code'], unique=False,
                                  postgresql_where=sa.text('township_code IS NOT NULL'),
                                  sqlite_where=sa.text('township_code IS NOT NULL'))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_township')
